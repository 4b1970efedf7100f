"""Hand a transaction to a CSR: one open escalation per transaction and reason.

The reason is a sentence for the CSR and may name an ESN or a switch's words; the kind is one
of a few fixed words, what a count or a chart may be grouped by without growing without bound.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.lifecycle import states
from activation.lifecycle.states import Move
from activation.store import audit
from activation.store.models import REASON_LENGTH, Escalation, Transaction

KINDS = (
    "asked_for_csr",  # the agent pressed 0
    "no_input",  # silence, twice at one step
    "bad_entry",  # a wrong entry, twice at one step
    "agent_log_on",  # a locked agent, or a wrong ID and PIN twice
    "handset",  # the ESN is active, listed by PVS, or PVS did not answer
    "credit",  # declined, or the bureau did not answer
    "no_number",  # no free number left in the NPA-NXX
    "switch",  # the switch refused, or took a number nobody wants
    "callback",  # a call-back that could not be placed or was denied
    "comparison",  # a repair the nightly comparison could not make
    "queue",  # a CSR removed the work the transaction waited for
    "e911",  # the E911 provider refused the line's service address
    "order",  # an order without a caller (the API's, a line's later one) left for a CSR
    "other",
)


def escalate(
    session: Session,
    reason: str,
    step: str,
    *,
    tx: Transaction | None,
    call_sid: str = "",
    agent_id: int | None = None,
    actor: str = "ivr",
    kind: str = "other",
) -> None:
    """Open an escalation (unless the same one is open), escalating the transaction if it may.

    A transaction being keyed or checked becomes escalated; one that is active, declined, or
    waiting on its switch keeps its status (the switch's answer still decides it): the
    escalation is then a note for a CSR beside it. `kind` is one of KINDS.
    """
    if kind not in KINDS:
        raise ValueError(f"escalation kind {kind!r} is not one of {', '.join(KINDS)}")
    reason = reason[:REASON_LENGTH]  # a party's words may run longer than the column
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
            kind=kind,
        )
    )


def settle(
    session: Session, transaction_id: int, reason_prefix: str, actor: str, detail: str
) -> None:
    """Close the open escalations of a transaction whose reason starts so: what they asked a
    CSR to decide has been decided."""
    for esc in session.scalars(
        select(Escalation).where(
            Escalation.transaction_id == transaction_id,
            Escalation.state == "open",
            Escalation.reason.startswith(reason_prefix, autoescape=True),
        )
    ):
        audit.record(session, "escalation", str(esc.id), esc.state, "closed", actor, detail)
        esc.state = "closed"
