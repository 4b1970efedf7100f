"""The activity log read three ways: per transaction, per agent and per switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from activation.store.models import Activity, ActivityAttempt, Agent, Transaction


@dataclass(frozen=True)
class LogLine:
    """One attempt of one activity, with whom and what it was for."""

    activity_id: int
    type: str
    target: str
    attempt: int
    started_at: datetime
    duration_ms: int
    outcome: str  # ok / waiting / retry / failed / lost
    request: str
    answer: str
    state: str  # the activity's state now
    transaction_code: str | None
    agent_code: str | None

    def __str__(self) -> str:
        who = f" tx {self.transaction_code}" if self.transaction_code else ""
        return (
            f"{self.started_at:%Y-%m-%d %H:%M:%S} #{self.activity_id} {self.type}{who} "
            f"attempt {self.attempt} -> {self.outcome} ({self.duration_ms} ms): {self.answer}"
        )


def _lines() -> Select:  # type: ignore[type-arg]
    return (
        select(ActivityAttempt, Activity, Transaction.code, Agent.agent_code)
        .join(Activity, Activity.id == ActivityAttempt.activity_id)
        .outerjoin(Transaction, Transaction.id == Activity.transaction_id)
        .outerjoin(Agent, Agent.id == Transaction.agent_id)
    )


def _read(session: Session, query: Select) -> list[LogLine]:
    return [
        LogLine(
            activity_id=activity.id,
            type=activity.type,
            target=attempt.target,
            attempt=attempt.attempt,
            started_at=attempt.started_at,
            duration_ms=attempt.duration_ms,
            outcome=attempt.outcome,
            request=attempt.request,
            answer=attempt.answer,
            state=activity.state,
            transaction_code=code,
            agent_code=agent_code,
        )
        for attempt, activity, code, agent_code in session.execute(query)
    ]


def for_transaction(session: Session, code: str) -> list[LogLine]:
    """Every attempt made for one transaction, oldest first."""
    query = _lines().where(Transaction.code == code)
    return _read(session, query.order_by(ActivityAttempt.started_at, ActivityAttempt.id))


def for_agent(
    session: Session, agent_code: str, since: datetime | None = None, limit: int = 500
) -> list[LogLine]:
    """Attempts made for the transactions of one agent, newest first."""
    query = _lines().where(Agent.agent_code == agent_code)
    if since is not None:
        query = query.where(ActivityAttempt.started_at >= since)
    order = (ActivityAttempt.started_at.desc(), ActivityAttempt.id.desc())
    return _read(session, query.order_by(*order).limit(limit))


def for_switch(
    session: Session, switch_name: str, since: datetime | None = None, limit: int = 500
) -> list[LogLine]:
    """Attempts made on one switch (insertions, deletions), newest first."""
    query = _lines().where(ActivityAttempt.target == switch_name, Activity.type.like("switch_%"))
    if since is not None:
        query = query.where(ActivityAttempt.started_at >= since)
    order = (ActivityAttempt.started_at.desc(), ActivityAttempt.id.desc())
    return _read(session, query.order_by(*order).limit(limit))
