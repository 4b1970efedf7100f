"""The audit trail: every status change, by whom."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEntry, Transaction, utcnow


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


def set_status(
    session: Session, tx: Transaction, status: str, actor: str, detail: str = ""
) -> None:
    """Change a transaction's status and audit it (a no-op when unchanged)."""
    if tx.status == status:
        return
    record(session, "transaction", tx.code, tx.status, status, actor, detail)
    tx.status = status
    tx.updated_at = utcnow()
