"""Run a nightly job once per planned run, however many schedulers fire it.

Every `cas worker` runs a scheduler, so N of them fire the same nightly job at the same time.
Each run has a key (its planned fire time) and a row in `scheduled_runs`: the first scheduler
to write the row runs the job, the others see the row and skip. On PostgreSQL a session
advisory lock is held around the run as well, so a run whose process died (the lock went with
its connection) is taken over at once; elsewhere the row's lease says when it may be.
"""

from __future__ import annotations

import logging
import os
import socket
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from activation.store.db import Database, is_postgres
from activation.store.followup import ScheduledRun
from activation.store.models import utcnow

log = logging.getLogger("cas.nightly")

RAN, DONE_ELSEWHERE, BUSY, FAILED = "ran", "done elsewhere", "busy", "failed"


def holder_name() -> str:
    """Name this process as the holder of a run."""
    return f"{socket.gethostname()}:{os.getpid()}"[:60]


def _lock_key(job: str) -> int:
    return zlib.crc32(f"cas nightly {job}".encode())


def run_once(
    db: Database,
    job: str,
    run_key: str,
    work: Callable[[], str],
    *,
    holder: str | None = None,
    lease: timedelta = timedelta(hours=3),
) -> str:
    """Run `work` for this planned run unless another scheduler runs or ran it."""
    # Returns RAN, DONE_ELSEWHERE (the run exists), BUSY (another holds it) or FAILED; `work`
    # returns a line of detail to keep on the run's row.
    holder = holder or holder_name()
    if not is_postgres(db.engine):
        return _claim_and_run(db, job, run_key, work, holder, lease, takeover=False)
    with db.engine.connect() as conn:
        key = _lock_key(job)
        locked = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not locked:
            return BUSY
        try:
            return _claim_and_run(db, job, run_key, work, holder, lease, takeover=True)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _claim(
    db: Database, job: str, run_key: str, holder: str, lease: timedelta, takeover: bool
) -> str | None:
    now = utcnow()
    try:
        with db.transaction() as session:
            run = session.get(ScheduledRun, (job, run_key), with_for_update=True)
            if run is None:
                session.add(
                    ScheduledRun(
                        job=job,
                        run_key=run_key,
                        state="running",
                        holder=holder,
                        started_at=now,
                        lease_until=now + lease,
                        detail="",
                    )
                )
                return None
            if run.state in ("done", "failed"):
                return DONE_ELSEWHERE
            if not takeover and run.lease_until > now:
                return BUSY
            # Its holder died mid-run (no advisory lock held, or its lease ran out).
            log.warning("nightly %s %s: taking over from %s", job, run_key, run.holder)
            run.holder, run.started_at, run.lease_until = holder, now, now + lease
            return None
    except IntegrityError:  # another scheduler wrote the row first
        return DONE_ELSEWHERE


def _claim_and_run(
    db: Database,
    job: str,
    run_key: str,
    work: Callable[[], str],
    holder: str,
    lease: timedelta,
    takeover: bool,
) -> str:
    refused = _claim(db, job, run_key, holder, lease, takeover)
    if refused is not None:
        log.info("nightly %s %s: skipped (%s)", job, run_key, refused)
        return refused
    state, outcome = "done", RAN
    try:
        detail = work()
    except Exception as exc:  # kept on the row for the operator; the next night runs again
        log.exception("nightly %s %s failed", job, run_key)
        state, outcome, detail = "failed", FAILED, f"{type(exc).__name__}: {exc}"
    with db.transaction() as session:
        run = session.get_one(ScheduledRun, (job, run_key), with_for_update=True)
        run.state, run.finished_at, run.detail = state, utcnow(), detail[:200]
    log.info("nightly %s %s: %s by %s (%s)", job, run_key, outcome, holder, detail)
    return outcome


def previous_fire(trigger: object, now: datetime) -> datetime | None:
    """Return the latest fire time of an APScheduler trigger at or before `now`."""
    fire = trigger.get_next_fire_time  # type: ignore[attr-defined]
    window = timedelta(seconds=1)
    while window < timedelta(days=800):
        first = fire(None, now - window)
        if first is not None and first <= now:
            latest = first
            while True:
                following = fire(latest, latest + timedelta(microseconds=1))
                if following is None or following > now:
                    return latest
                latest = following
        window *= 2
    return None
