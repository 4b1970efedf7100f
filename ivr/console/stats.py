"""What the dashboard and /metrics count: activations, escalations, queue, comparison findings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Subquery, func, or_, select
from sqlalchemy.orm import Session

from activation.store.comparison import ComparisonFinding, ComparisonRun
from activation.store.models import Activity, AuditEntry, Escalation, utcnow

QUEUE_STATES = ("pending", "running", "failed")


def became_active() -> Subquery:
    """Each transaction that became active, once, with when it first did.

    From the audit log, which only grows; a note on an active transaction (billing sent, the
    call-back heard) is audited as active to active and is no activation.
    """
    return (
        select(AuditEntry.entity_id.label("code"), func.min(AuditEntry.at).label("at"))
        .where(
            AuditEntry.entity == "transaction",
            AuditEntry.new_status == "active",
            or_(AuditEntry.old_status.is_(None), AuditEntry.old_status != "active"),
        )
        .group_by(AuditEntry.entity_id)
        .subquery()
    )


def activations_per_hour(
    session: Session, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Count transactions made active in each of the last hours, oldest first."""
    now = now or utcnow()
    top = now.replace(minute=0, second=0, microsecond=0)
    first = top - timedelta(hours=hours - 1)
    activated = became_active()
    times = session.scalars(select(activated.c.at).where(activated.c.at >= first))
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at in times)
    slots = [first + timedelta(hours=i) for i in range(hours)]
    return [(slot, per_hour[slot]) for slot in slots]


def escalations_by_kind(
    session: Session, days: int = 7, now: datetime | None = None
) -> list[tuple[str, int]]:
    """Count escalations of the last days by kind, most frequent first.

    The kind, not the reason: a reason names an ESN or a number, and a chart of reasons grows
    a bar for every one.
    """
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(Escalation.kind, func.count())
        .where(Escalation.created_at >= since)
        .group_by(Escalation.kind)
        .order_by(func.count().desc(), Escalation.kind)
    )
    return [(kind, count) for kind, count in rows]


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
