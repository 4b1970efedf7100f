"""The activity queue: every call to an outside system, claimed under a lease and retried."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .db import Database, is_postgres
from .models import Activity, ActivityAttempt, utcnow
from .settings import DATA_DIR


@dataclass(frozen=True)
class ActivityType:
    """How often and how patiently an activity type is retried."""

    max_attempts: int
    backoff_seconds: tuple[int, ...]

    def delay(self, attempts: int) -> timedelta:
        """Return the wait before the next attempt after `attempts` failures."""
        steps = self.backoff_seconds or (30,)
        return timedelta(seconds=steps[min(attempts, len(steps)) - 1])


@cache
def activity_types(path: Path = DATA_DIR / "activity_types.json") -> dict[str, ActivityType]:
    """Return the per-type retry rules of data/activity_types.json."""
    raw = json.loads(path.read_text())
    return {
        name: ActivityType(int(row["max_attempts"]), tuple(row["backoff_seconds"]))
        for name, row in raw.items()
    }


def enqueue(
    session: Session,
    type_: str,
    payload: dict[str, Any],
    *,
    target: str = "",
    transaction_id: int | None = None,
) -> Activity:
    """Queue an activity to run as soon as a worker is free."""
    activity = Activity(
        type=type_,
        target=target,
        payload=payload,
        transaction_id=transaction_id,
        max_attempts=activity_types()[type_].max_attempts,
        next_try_at=utcnow(),
    )
    session.add(activity)
    session.flush()
    return activity


def claim(db: Database, worker: str, lease: timedelta) -> Activity | None:
    """Take the next due activity under a lease; an expired lease makes it due again."""
    now = utcnow()
    with db.transaction() as session:
        due = (
            select(Activity)
            .where(
                or_(
                    (Activity.state == "pending") & (Activity.next_try_at <= now),
                    (Activity.state == "running") & (Activity.lease_until < now),
                )
            )
            .order_by(Activity.next_try_at, Activity.id)
            .limit(1)
        )
        if is_postgres(db.engine):
            due = due.with_for_update(skip_locked=True)
        activity = session.scalar(due)
        if activity is None:
            return None
        activity.state = "running"
        activity.attempts += 1
        activity.lease_until = now + lease
        activity.leased_by = worker
        session.flush()
        session.expunge(activity)
        return activity


def log_attempt(
    session: Session,
    activity: Activity,
    started: datetime,
    outcome: str,
    request: str,
    answer: str,
) -> None:
    """Write one attempt to the activity log."""
    session.add(
        ActivityAttempt(
            activity_id=activity.id,
            attempt=activity.attempts,
            started_at=started,
            duration_ms=int((utcnow() - started).total_seconds() * 1000),
            target=activity.target,
            request=request[:200],
            outcome=outcome,
            answer=answer[:300],
        )
    )


def finish(session: Session, activity: Activity, result: dict[str, Any]) -> None:
    """Mark an activity done with its result, if this worker still holds its lease."""
    session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.leased_by == activity.leased_by)
        .values(state="done", result=result, done_at=utcnow(), lease_until=None, last_error=None)
    )


def reschedule(session: Session, activity: Activity, error: str) -> str:
    """Put a failed attempt back in the queue with back-off, or fail it when exhausted."""
    kind = activity_types()[activity.type]
    exhausted = activity.attempts >= activity.max_attempts
    state = "failed" if exhausted else "pending"
    session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.leased_by == activity.leased_by)
        .values(
            state=state,
            last_error=error[:300],
            lease_until=None,
            next_try_at=utcnow() + kind.delay(activity.attempts),
        )
    )
    return state


def hurry(session: Session, activity_id: int) -> None:
    """Make a waiting activity due now (the agent chose to retry at once)."""
    session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.state.in_(("pending", "failed")))
        .values(state="pending", next_try_at=utcnow())
    )
