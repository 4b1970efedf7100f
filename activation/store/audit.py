"""The audit trail: every status change, by whom."""

from __future__ import annotations

from sqlalchemy.orm import Session

from activation.store.models import AuditEntry


def record(
    session: Session,
    entity: str,
    entity_id: str,
    old: str | None,
    new: str,
    actor: str,
    detail: str = "",
) -> None:
    """Write one audit entry."""
    session.add(
        AuditEntry(
            entity=entity,
            entity_id=entity_id,
            old_status=old,
            new_status=new,
            actor=actor,
            detail=detail[:200],
        )
    )
