"""Hand a transaction to a CSR: one open escalation per transaction and reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.lifecycle import states
from activation.lifecycle.states import Move
from activation.store.models import Escalation, Transaction


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
    """Open an escalation (unless the same one is open), escalating the transaction if it may.

    A transaction being keyed or checked becomes escalated; one that is active, declined, or
    waiting on its switch keeps its status (the switch's answer still decides it): the
    escalation is then a note for a CSR beside it.
    """
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
        if states.allowed(tx.status, Move.ESCALATE):
            states.move(session, tx, Move.ESCALATE, actor, reason)
    session.add(
        Escalation(
            call_sid=call_sid,
            transaction_id=tx.id if tx else None,
            agent_id=agent_id if agent_id is not None else (tx.agent_id if tx else None),
            step=step,
            reason=reason,
        )
    )
