"""Hand a transaction to a CSR: one open escalation per transaction and reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import Escalation, Transaction


def escalate(
    session: Session,
    reason: str,
    step: str,
    *,
    tx: Transaction | None,
    call_sid: str = "",
    agent_id: int | None = None,
    actor: str = "ivr",
) -> None:
    """Open an escalation (unless the same one is open) and mark the transaction escalated."""
    if tx is not None:
        open_one = session.scalar(
            select(Escalation.id).where(
                Escalation.transaction_id == tx.id,
                Escalation.reason == reason,
                Escalation.state == "open",
            )
        )
        if open_one is not None:
            return
        tx.escalation_reason = reason
        if tx.status not in ("active", "declined"):
            audit.set_status(session, tx, "escalated", actor, reason)
    session.add(
        Escalation(
            call_sid=call_sid,
            transaction_id=tx.id if tx else None,
            agent_id=agent_id if agent_id is not None else (tx.agent_id if tx else None),
            step=step,
            reason=reason,
        )
    )
