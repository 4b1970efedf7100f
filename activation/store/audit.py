"""The audit trail: every status change, by whom."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from activation.store.models import ACTOR_LENGTH, AuditEntry, utcnow

AUDIT_LOG = cast(Table, AuditEntry.__table__)
_INSERT = insert(AUDIT_LOG)  # built once: written at every move of everything


def record(
    session: Session,
    entity: str,
    entity_id: str,
    old: str | None,
    new: str,
    actor: str,
    detail: str = "",
) -> None:
    """Write one audit entry, in the session's transaction.

    A plain INSERT, not an object for the session to flush: nothing reads an entry back in
    the transaction that writes it, and the unit of work cost more than the row. It goes on
    the session's connection: through the session it would flush what is pending first, and
    a row changed before and after the entry would take two UPDATEs.
    """
    session.connection().execute(
        _INSERT,
        {
            "at": utcnow(),
            "entity": entity,
            "entity_id": entity_id,
            "old_status": old,
            "new_status": new,
            "actor": actor[:ACTOR_LENGTH],
            "detail": detail[:200],
        },
    )
