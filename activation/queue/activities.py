"""The activity queue: every call to an outside system, claimed under a lease and retried.

States: pending (due at next_try_at) -> running (leased by one worker until lease_until) ->
done, or back to pending with back-off, or failed once its attempts are spent. An activity
whose outcome another party reports later (a call-back's call status) waits in `waiting`
until the report comes or its lease runs out. A running activity whose lease ran out belongs
to a worker that died: any worker may take it again. A failed one stays for a CSR to retry or
remove. Every function takes `now` so a test can run the queue on a clock of its own.

Every attempt is in the activity log from the moment it is claimed (outcome "started"); its
end rewrites that row. An attempt whose worker died keeps "started" until the lease runs
out and another worker takes the activity over: then it is closed as "lost".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, insert, literal, null, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from activation.queue import wakeup
from activation.settings import DATA_DIR
from activation.store import audit
from activation.store.db import Database, is_postgres
from activation.store.models import Activity, ActivityAttempt, utcnow


@dataclass(frozen=True)
class ActivityType:
    """How often and how patiently an activity type is retried."""

    max_attempts: int
    backoff_seconds: tuple[int, ...]

    def delay(self, attempts: int) -> timedelta:
        """Return the wait before the next attempt after `attempts` failures."""
        steps = self.backoff_seconds or (30,)
        return timedelta(seconds=steps[max(1, min(attempts, len(steps))) - 1])


@cache
def activity_types(path: Path = DATA_DIR / "activity_types.json") -> dict[str, ActivityType]:
    """Return the per-type retry rules of data/activity_types.json."""
    raw = json.loads(path.read_text())
    return {
        name: ActivityType(int(row["max_attempts"]), tuple(row["backoff_seconds"]))
        for name, row in raw.items()
        if not name.startswith("_")
    }


def enqueue(
    session: Session,
    type_: str,
    payload: dict[str, Any],
    *,
    target: str = "",
    transaction_id: int | None = None,
    order_id: int | None = None,
    now: datetime | None = None,
    flush: bool = True,
) -> Activity:
    """Queue an activity to run as soon as a worker is free.

    With flush=False its row waits for the session's next flush (the commit's at the latest),
    where it is written with the session's other changes; until then it has no id.
    """
    activity = Activity(
        type=type_,
        target=target,
        payload=payload,
        transaction_id=transaction_id,
        order_id=order_id,
        state="pending",
        attempts=0,
        max_attempts=activity_types()[type_].max_attempts,
        next_try_at=now or utcnow(),
    )
    session.add(activity)
    if flush:
        session.flush()
    wakeup.announce(session)
    return activity


def claim(
    db: Database, worker: str, lease: timedelta, now: datetime | None = None
) -> Activity | None:
    """Take the next due activity under a lease; an expired lease makes it due again."""
    with db.transaction() as session:
        return claim_in(session, worker, lease, now)[0]


# The queue's statements are built once: building a statement and its cache key cost the
# worker more than the database took to run it.
_WHEN = {
    "due": (Activity.state == "pending", Activity.next_try_at <= bindparam("now")),
    "abandoned": (Activity.state == "running", Activity.lease_until < bindparam("now")),
}


def _pick(condition: str, skip_locked: bool) -> Any:
    # The index on (state, next_try_at) read in order: a claim costs the same with ten or ten
    # thousand activities waiting. PostgreSQL skips rows another worker is claiming.
    pick = (
        select(Activity.id, Activity.leased_by)
        .where(*_WHEN[condition])
        .order_by(Activity.next_try_at)
        .limit(1)
    )
    return pick.with_for_update(skip_locked=True) if skip_locked else pick


_TAKEN = {
    "state": "running",
    "attempts": Activity.attempts + 1,
    "lease_until": bindparam("lease_end"),
    "leased_by": bindparam("worker"),
}
ACTIVITIES = cast(Table, Activity.__table__)
# A due activity is picked and taken by one statement, its row read back as the update left
# it; a lost lease goes the two-statement way (pick, then retake), which knows whose lease it
# was.
_PICK_LOST = {pg: _pick("abandoned", pg) for pg in (False, True)}
_RETAKE = (
    update(Activity)
    .where(Activity.id == bindparam("activity_id"), *_WHEN["abandoned"])
    .values(_TAKEN)
    .returning(Activity)
    .execution_options(synchronize_session=False)
)
_TAKE_DUE = {
    pg: update(ACTIVITIES)
    .where(ACTIVITIES.c.id == _pick("due", pg).with_only_columns(Activity.id).scalar_subquery())
    .where(*_WHEN["due"])
    .values({ACTIVITIES.c[key]: value for key, value in _TAKEN.items()})
    .returning(*ACTIVITIES.c)
    for pg in (False, True)
}


def claim_in(
    session: Session,
    worker: str,
    lease: timedelta,
    now: datetime | None = None,
    lost: bool = True,
) -> tuple[Activity | None, bool]:
    """Take the next due activity in the caller's transaction (the claim commits with it);
    with none due, one whose lease ran out, unless `lost` is False.

    The activity comes back detached from the session, as `claim` returns it, with whether
    another activity was due as it was claimed (always so said on SQLite, and for a lost
    lease retaken): a worker that finished an activity with no other due, and heard of none
    queued since, need not ask the queue again.
    """
    now = now or utcnow()
    postgres = is_postgres(session.get_bind())
    taking = {"now": now, "lease_end": now + lease, "worker": worker, "started": now}
    # PostgreSQL writes the attempt's "started" row in the claim's own statement.
    take = _TAKE_DUE_LOGGED if postgres else _TAKE_DUE[False]
    row = session.connection().execute(take, taking | {"soon": now + PEEK_AHEAD}).first()
    if row is not None:
        fields = dict(row._mapping)
        more = bool(fields.pop("more_due", True))
        # As loaded and let go by the session: detached, nothing pending on it.
        taken = Activity(**fields)
        make_transient_to_detached(taken)
        if not postgres:
            log_attempt(session, taken, now, STARTED, request_line(taken), "", now)
        return taken, more
    if not lost:
        return None, False
    found = session.execute(_PICK_LOST[postgres], {"now": now}).first()
    if found is None:
        return None, False
    retaken = session.scalars(_RETAKE, {**taking, "activity_id": found.id}).first()
    if retaken is None:
        return None, True
    _close_lost(session, retaken.id, f"worker {found.leased_by} did not finish", now)
    log_attempt(session, retaken, now, STARTED, request_line(retaken), "", now)
    session.flush()
    session.expunge(retaken)
    return retaken, True


ACTIVITY_LOG = cast(Table, ActivityAttempt.__table__)
_NEW_ATTEMPT = insert(ACTIVITY_LOG)
STARTED = "started"  # an attempt under way, or one whose worker died before it ended
# What an attempt's log row says of it, besides whose attempt it is.
_ATTEMPT_COLUMNS = ("started_at", "target", "duration_ms", "request", "outcome", "answer")


def request_line(activity: Activity) -> str:
    """What an attempt's log row says was asked: the activity's type and target."""
    return f"{activity.type} {activity.target}"


# The due activity's claim and its attempt's "started" row in one statement (PostgreSQL):
# the row says what log_attempt would have written for it.
_CLAIMED = _TAKE_DUE[True].cte("claimed")
# Another activity due as the claim runs (the claimed one's row is still pending in the
# statement's snapshot), or due within PEEK_AHEAD, so a queuer's clock a little ahead of the
# worker's does not leave its activity waiting for the next poll.
PEEK_AHEAD = timedelta(seconds=1)
_MORE_DUE = (
    exists()
    .where(
        ACTIVITIES.c.state == "pending",
        ACTIVITIES.c.next_try_at <= bindparam("soon"),
        ACTIVITIES.c.id != _CLAIMED.c.id,
    )
    .label("more_due")
)
_TAKE_DUE_LOGGED = select(_CLAIMED, _MORE_DUE).add_cte(
    insert(ACTIVITY_LOG)
    .from_select(
        ["activity_id", "attempt", *_ATTEMPT_COLUMNS],
        select(
            _CLAIMED.c.id,
            _CLAIMED.c.attempts,
            bindparam("started", type_=ACTIVITY_LOG.c.started_at.type),
            _CLAIMED.c.target,
            literal(0),
            func.left(_CLAIMED.c.type + " " + _CLAIMED.c.target, 200),
            literal(STARTED),
            literal(""),
        ),
        include_defaults=False,
    )
    .cte("started_attempt")
)


def _close_lost(session: Session, activity_id: int, why: str, now: datetime) -> list[int]:
    """Close the attempts of an activity left "started" by a worker that died."""
    lost = session.scalars(
        select(ActivityAttempt).where(
            ActivityAttempt.activity_id == activity_id, ActivityAttempt.outcome == STARTED
        )
    ).all()
    for attempt in lost:
        attempt.outcome, attempt.answer = "lost", why[:300]
        attempt.duration_ms = max(0, int((now - attempt.started_at).total_seconds() * 1000))
    return [attempt.id for attempt in lost]


# Done, or waiting for the outside party's report until `wait_until`. On the table, not the
# class: an ORM-enabled UPDATE costs the worker more than the database takes to run it.
_SETTLE = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.id == bindparam("settled_id"),
        ACTIVITIES.c.state == "running",
        ACTIVITIES.c.leased_by == bindparam("worker"),
        ACTIVITIES.c.attempts == bindparam("settled_attempt"),
    )
    .values(
        result=bindparam("result_now"),
        last_error=null(),
        state=bindparam("state_now"),
        done_at=bindparam("done_when"),
        lease_until=bindparam("lease_end"),
    )
)


def settle(
    session: Session,
    activity: Activity,
    result: dict[str, Any],
    now: datetime,
    wait_until: datetime | None = None,
    started: datetime | None = None,
) -> bool:
    """Record a worker's result if its lease still stands; tell whether it did.

    The update keeps the row locked until the session ends, so the job's apply runs under
    the same lock. Given when the attempt `started`, its log row is ended too ("ok", or
    "waiting" for the report), on PostgreSQL in the same statement.
    """
    done = wait_until is None
    settling = {
        # No name of an activity_log column: those would be SET in the statement ending it.
        "settled_id": activity.id,
        "worker": activity.leased_by,
        "settled_attempt": activity.attempts,
        "result_now": result,
        "state_now": "done" if done else "waiting",
        "done_when": now if done else None,
        "lease_end": None if done else wait_until,
    }
    # On the connection: a statement through the session flushes what is pending first, and
    # the job's changes to its transaction are better written once, at the end.
    conn = session.connection()
    if started is None:
        return conn.execute(_SETTLE, settling).rowcount == 1  # type: ignore[attr-defined]
    outcome, answer = ("ok" if done else "waiting"), str(result)
    if not is_postgres(session.get_bind()):  # type: ignore[arg-type]
        if conn.execute(_SETTLE, settling).rowcount != 1:  # type: ignore[attr-defined]
            return False
        log_attempt(session, activity, started, outcome, request_line(activity), answer, now)
        return True
    row = _attempt_row(activity, started, outcome, request_line(activity), answer, now)
    settled, ended = conn.execute(_SETTLE_AND_END, settling | _ending(activity, row)).one()
    if settled and not ended:  # no started row to end (a claim from before they were kept)
        conn.execute(_NEW_ATTEMPT, _new_attempt(activity, row))
    return bool(settled)


# The claim's row of an attempt, rewritten at its end in one statement, not read first.
_END_ATTEMPT = (
    update(ACTIVITY_LOG)
    .where(
        ACTIVITY_LOG.c.activity_id == bindparam("attempt_of"),
        ACTIVITY_LOG.c.attempt == bindparam("attempt_no"),
        ACTIVITY_LOG.c.outcome == STARTED,
    )
    .values({name: bindparam(f"new_{name}") for name in _ATTEMPT_COLUMNS})
)
# The settle and the end of its attempt's row in one statement (PostgreSQL): the row is
# ended only if the activity was settled; both counts come back.
_SETTLED = _SETTLE.returning(ACTIVITIES.c.id).cte("settled")
_ENDED = (
    _END_ATTEMPT.where(ACTIVITY_LOG.c.activity_id.in_(select(_SETTLED.c.id)))
    .returning(ACTIVITY_LOG.c.id)
    .cte("ended")
)
_SETTLE_AND_END = select(
    select(func.count()).select_from(_SETTLED).scalar_subquery(),
    select(func.count()).select_from(_ENDED).scalar_subquery(),
)


def _attempt_row(
    activity: Activity,
    started: datetime,
    outcome: str,
    request: str,
    answer: str,
    now: datetime | None,
) -> dict[str, Any]:
    """An attempt's log row as it ends (what it asked, what came back, how long it took)."""
    return {
        "started_at": started,
        "target": activity.target,
        "duration_ms": max(0, int(((now or utcnow()) - started).total_seconds() * 1000)),
        "request": request[:200],
        "outcome": outcome,
        "answer": answer[:300],
    }


def _ending(activity: Activity, row: dict[str, Any]) -> dict[str, Any]:
    """The parameters of _END_ATTEMPT for an activity's current attempt."""
    return {"attempt_of": activity.id, "attempt_no": activity.attempts} | {
        f"new_{name}": value for name, value in row.items()
    }


def _new_attempt(activity: Activity, row: dict[str, Any]) -> dict[str, Any]:
    """The parameters of _NEW_ATTEMPT: an activity's current attempt, as its row says."""
    return {"activity_id": activity.id, "attempt": activity.attempts} | row


def log_attempt(
    session: Session,
    activity: Activity,
    started: datetime,
    outcome: str,
    request: str,
    answer: str,
    now: datetime | None = None,
) -> None:
    """Write one attempt to the activity log (outcome: started, ok, waiting, retry, failed,
    lost): the row the claim started for this attempt when there is one, else a new row."""
    row = _attempt_row(activity, started, outcome, request, answer, now)
    conn = session.connection()
    ending = _ending(activity, row)
    if outcome != STARTED and conn.execute(_END_ATTEMPT, ending).rowcount:  # type: ignore[attr-defined]
        return
    conn.execute(_NEW_ATTEMPT, _new_attempt(activity, row))


def finish(
    session: Session, activity: Activity, result: dict[str, Any], now: datetime | None = None
) -> bool:
    """Mark an activity done with its result, if this worker still holds it; tell if so."""
    done = session.execute(
        update(Activity)
        .where(
            Activity.id == activity.id,
            Activity.leased_by == activity.leased_by,
            Activity.state.in_(("running", "waiting")),
        )
        .values(
            state="done",
            result=result,
            done_at=now or utcnow(),
            lease_until=None,
            last_error=None,
        )
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


def reschedule(
    session: Session, activity: Activity, error: str, now: datetime | None = None
) -> str:
    """Put a failed attempt back in the queue with back-off, or fail it when exhausted."""
    now = now or utcnow()
    kind = activity_types()[activity.type]
    exhausted = activity.attempts >= activity.max_attempts
    state = "failed" if exhausted else "pending"
    session.execute(
        update(Activity)
        .where(
            Activity.id == activity.id,
            Activity.leased_by == activity.leased_by,
            Activity.state.in_(("running", "waiting")),
        )
        .values(
            state=state,
            last_error=error[:300],
            lease_until=None,
            next_try_at=now + kind.delay(activity.attempts),
        )
    )
    return state


def recover_expired(session: Session, now: datetime | None = None) -> list[int]:
    """Give running activities whose worker died back to the queue; return their ids."""
    now = now or utcnow()
    lost = session.scalars(
        select(Activity)
        .where(Activity.state == "running", Activity.lease_until < now)
        .order_by(Activity.id)
        .with_for_update(skip_locked=True)
    ).all()
    for activity in lost:
        why = f"lease of {activity.leased_by} ran out"
        if not _close_lost(session, activity.id, why, now):
            request = f"{activity.type} {activity.target}"
            log_attempt(session, activity, activity.lease_until or now, "lost", request, why, now)
        activity.state, activity.next_try_at, activity.lease_until = "pending", now, None
        activity.last_error = f"worker {activity.leased_by} did not finish"[:300]
    return [activity.id for activity in lost]


def hurry(session: Session, activity_id: int, now: datetime | None = None) -> None:
    """Make a waiting activity due now (the agent chose to retry at once)."""
    session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.state.in_(("pending", "failed")))
        .values(state="pending", next_try_at=now or utcnow())
    )
    wakeup.announce(session)


def retry_failed(session: Session, activity_id: int, actor: str) -> bool:
    """Give a failed activity a fresh set of attempts (a CSR's decision); tell if it was failed."""
    activity = session.get(Activity, activity_id, with_for_update=True)
    if activity is None or activity.state != "failed":
        return False
    activity.state, activity.next_try_at = "pending", utcnow()
    activity.max_attempts = activity.attempts + activity_types()[activity.type].max_attempts
    audit.record(session, "activity", str(activity.id), "failed", "pending", actor, "retry")
    wakeup.announce(session)
    return True


def remove(session: Session, activity_id: int, actor: str) -> bool:
    """Take a failed or pending activity out of the queue for good; tell if it was there."""
    activity = session.get(Activity, activity_id, with_for_update=True)
    if activity is None or activity.state not in ("failed", "pending"):
        return False
    audit.record(session, "activity", str(activity.id), activity.state, "removed", actor)
    activity.state = "removed"
    return True


def counts(session: Session) -> dict[str, int]:
    """Return how many activities are in each state."""
    rows = session.execute(select(Activity.state, func.count()).group_by(Activity.state))
    return {state: n for state, n in rows}
