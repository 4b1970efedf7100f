"""An activation nobody is on the phone for: a partner's activate order, carried on by the worker.

A partner sends the whole activation in one order (activation/service_layer/api_orders.py):
the transaction is opened with everything keyed, and the credit check queued. When the
bureau has answered, `proceed` does what the agent would have done next: a declined customer
ends the order, an approved one gets a number claimed and inserted; whatever a machine cannot
settle (an SSN the bureau does not know, a deposit with no payment given, no free number) is
escalated to a CSR, and the order is held.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from activation.lifecycle import assignment, numbers, states
from activation.lifecycle.customers import keep_customer
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import Move, TxStatus
from activation.store.models import Transaction

ACTOR = "order"


def is_unattended(tx: Transaction) -> bool:
    """Tell whether a transaction is a partner's activate order (no caller waits on it)."""
    return tx.by_order


def proceed(session: Session, tx: Transaction) -> None:
    """Take an unattended activation on from its credit check's answer."""
    if tx.status != TxStatus.INCOMPLETE:
        return
    if tx.credit_decision == "unknown":
        escalate(session, "unknown to the credit bureau", "ssn", tx=tx, actor=ACTOR, kind="order")
        return
    if tx.credit_decision == "decline":
        states.move(session, tx, Move.DECLINE, ACTOR, "credit declined")
        return
    customer = keep_customer(session, tx)
    if tx.deposit_cents and tx.deposit_method not in ("cash", "check"):
        escalate(
            session, "deposit due; no payment given", "deposit", tx=tx, actor=ACTOR, kind="order"
        )
        return
    customer.deposit_method = tx.deposit_method or ""
    switch = numbers.serving_switch(session, tx.npa_nxx or "")
    if switch is None:
        escalate(session, "NPA-NXX not served", "npa_nxx", tx=tx, actor=ACTOR, kind="order")
        return
    assignment.claim(session, tx, switch, ACTOR)
