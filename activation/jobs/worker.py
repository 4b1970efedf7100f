"""The worker: claims due activities, runs them, retries with back-off, logs every attempt."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from activation.jobs.registry import JOBS
from activation.lifecycle import states
from activation.queue import activities
from activation.queue.wakeup import Wakeup
from activation.services import Services
from activation.store.db import is_postgres
from activation.store.models import Activity, utcnow

log = logging.getLogger("cas.worker")


class Worker:
    """One worker; any number may run at once on any number of hosts."""

    def __init__(
        self,
        services: Services,
        name: str | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.services = services
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.clock = clock
        # A lease outlives the switch's deadline, so only a dead worker's activity is retaken.
        self.lease = timedelta(seconds=services.settings.switch_deadline * 3)
        # A lease runs out a whole lease after its claim: looking for lost ones at most every
        # tenth of a lease finds them soon enough, where every empty claim looked before.
        self._look_for_lost_at: datetime | None = None
        # Whether the last claim saw another activity due besides the one it took.
        self._more_due = True

    def run_once(self) -> bool:
        """Run one due activity; tell whether there was one."""
        db = self.services.db
        claimed = self._claim()
        if claimed is None:
            return False
        activity, work, unprepared = claimed
        job = JOBS[activity.type]
        started = self.clock()
        request = activities.request_line(activity)
        try:
            if unprepared is not None:
                raise unprepared
            result = job.perform(work, activity.attempts, self.services)
        except Exception as exc:  # every failure of an outside system is retried, then failed
            error = f"{type(exc).__name__}: {exc}"
            with db.transaction() as session:
                if activity.transaction_id is not None:
                    states.lock(session, activity.transaction_id)
                now = self.clock()
                state = activities.reschedule(session, activity, error, now)
                outcome = "failed" if state == "failed" else "retry"
                activities.log_attempt(session, activity, started, outcome, request, error, now)
                gave_up = getattr(job, "failed", None)
                if state == "failed" and gave_up is not None:
                    gave_up(session, activity, error)
            log.warning(
                "activity %s %s attempt %s: %s -> %s",
                activity.id,
                activity.type,
                activity.attempts,
                error,
                state,
            )
            return True
        with db.transaction() as session:
            if activity.transaction_id is not None:
                # Transaction before activity, as every entry point locks them.
                states.lock(session, activity.transaction_id)
            now = self.clock()
            waits = job.awaits_report
            until = None if waits is None else now + waits
            # The attempt's log row is ended with the settle ("ok", or "waiting").
            if not activities.settle(session, activity, result, now, until, started):
                # The lease ran out and another worker took it over: its attempt decides.
                log.warning("activity %s: lease lost, result %s dropped", activity.id, result)
                return True
            job.apply(session, activity, result, self.services)
        log.info("activity %s %s done: %s", activity.id, activity.type, result.get("outcome"))
        return True

    def _claim(self) -> tuple[Activity, Any, Exception | None] | None:
        """Claim the next due activity and prepare its work in the claim's own transaction
        (on PostgreSQL with no transaction at all, unless lost leases are looked for).

        A job's prepare only reads, so it shares the claim's transaction (one transaction
        fewer an attempt); what it raises is the attempt's failure, retried as perform's is.
        A database error in it would undo the claim: then claim and prepare run apart.
        """
        db = self.services.db
        now = self.clock()
        look = self._look_for_lost_at is None or now >= self._look_for_lost_at
        if is_postgres(db.engine):
            due = self._claim_due(now)
            if due is not None or not look:
                return due
            # Nothing due and time to look for lost leases: that takes a transaction (a row
            # locked, then written), as does the claim on SQLite.
        try:
            with db.transaction() as session:
                activity, self._more_due = activities.claim_in(
                    session, self.name, self.lease, now, look
                )
                if activity is None and look:  # nothing due, and no lease ran out
                    self._look_for_lost_at = now + self.lease / 10
                return None if activity is None else self._prepared(session, activity)
        except DBAPIError:
            log.warning("claim with prepare failed; claiming and preparing apart", exc_info=True)
        self._more_due = True  # a claim apart does not look for more
        activity = activities.claim(db, self.name, self.lease, self.clock())
        if activity is None:
            return None
        try:
            with db.transaction() as session:
                return self._prepared(session, activity)
        except Exception as exc:  # the attempt's failure, as before the claim was shared
            return activity, None, exc

    def _claim_due(self, now: datetime) -> tuple[Activity, Any, Exception | None] | None:
        """Claim a due activity and prepare its work with no transaction (PostgreSQL): the
        claim is one atomic statement and prepare only reads, so neither needs BEGIN and
        COMMIT, two round trips an attempt and two of every three of an empty claim's."""
        with self.services.db.autocommit() as session:
            activity, self._more_due = activities.claim_in(
                session, self.name, self.lease, now, lost=False
            )
            if activity is None:
                return None
            try:
                return activity, JOBS[activity.type].prepare(session, activity, self.services), None
            except Exception as exc:  # the claim stands: the attempt's failure, retried
                return activity, None, exc

    def _prepared(
        self, session: Session, activity: Activity
    ) -> tuple[Activity, Any, Exception | None]:
        """The activity with its job's work, or with what prepare raised (a database error
        aside: it spoils the transaction, so the caller hears of it)."""
        try:
            return activity, JOBS[activity.type].prepare(session, activity, self.services), None
        except DBAPIError:
            raise
        except Exception as exc:
            return activity, None, exc

    def run(self, stop: threading.Event, idle: float | None = None) -> None:
        """Work until stopped; when nothing is due, wait for a queued activity's notice.

        `idle` is the longest wait: 0.2 s by default, 2 s where notices wake the worker
        (PostgreSQL) and the poll is only there for retries coming due and lost leases.
        After an attempt whose claim saw nothing else due the worker waits at once: a notice
        sent meanwhile ends the wait, and asking the queue without one would find it empty.
        """
        if idle is None:
            idle = 2.0 if is_postgres(self.services.db.engine) else 0.2
        wake = Wakeup(self.services.db)
        wake.listen()  # before the first claim: nothing queued after it goes unheard
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:  # the database may be briefly away; keep the worker alive
                    log.exception("worker loop")
                    busy = False
                if not busy or not self._more_due:
                    wake.wait(stop, idle)
        finally:
            wake.close()

    def drain(self, limit: int = 1_000_000) -> int:
        """Run due activities until none is due; return how many ran."""
        ran = 0
        while ran < limit and self.run_once():
            ran += 1
        return ran
