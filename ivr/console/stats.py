"""What the dashboard and /metrics count: activations, escalations, queue, comparison findings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from activation.store.comparison import ComparisonFinding, ComparisonRun
from activation.store.models import Activity, AuditEntry, Escalation, utcnow

QUEUE_STATES = ("pending", "running", "failed")


def activations_per_hour(
    session: Session, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Count MIDs made active in each of the last hours, oldest first."""
    now = now or utcnow()
    top = now.replace(minute=0, second=0, microsecond=0)
    first = top - timedelta(hours=hours - 1)
    times = session.scalars(
        select(AuditEntry.at).where(
            AuditEntry.entity == "transaction",
            AuditEntry.new_status == "active",
            AuditEntry.at >= first,
        )
    )
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at in times)
    slots = [first + timedelta(hours=i) for i in range(hours)]
    return [(slot, per_hour[slot]) for slot in slots]


def escalations_by_reason(
    session: Session, days: int = 7, now: datetime | None = None
) -> list[tuple[str, int]]:
    """Count escalations of the last days by reason, most frequent first."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(Escalation.reason, func.count())
        .where(Escalation.created_at >= since)
        .group_by(Escalation.reason)
        .order_by(func.count().desc(), Escalation.reason)
    )
    return [(reason, count) for reason, count in rows]


def queue_depth(session: Session) -> list[tuple[str, str, int]]:
    """Count activities waiting, running or failed, by type and state."""
    rows = session.execute(
        select(Activity.type, Activity.state, func.count())
        .where(Activity.state.in_(QUEUE_STATES))
        .group_by(Activity.type, Activity.state)
        .order_by(Activity.type, Activity.state)
    )
    return [(kind, state, count) for kind, state, count in rows]


def latest_findings(session: Session) -> dict[tuple[str, str], int]:
    """Count the last finished comparison's findings by (switch, kind); empty before any."""
    last = session.scalar(select(func.max(ComparisonRun.id)).where(ComparisonRun.state == "done"))
    if last is None:
        return {}
    rows = session.execute(
        select(ComparisonFinding.switch_name, ComparisonFinding.kind, func.count())
        .where(ComparisonFinding.run_id == last)
        .group_by(ComparisonFinding.switch_name, ComparisonFinding.kind)
    )
    return {(switch, kind): count for switch, kind, count in rows}
