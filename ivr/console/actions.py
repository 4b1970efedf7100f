"""What a CSR does to finish a transaction, through the same core as the call; all audited.

These take a database session and the acting user's name and raise Refused with a sentence for
the CSR when the transaction is not in a state that allows the action. No HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from activation import activities, audit, numbers
from activation.customers import keep_customer
from activation.escalations import escalate
from activation.jobs import start_insert
from activation.models import Activity, Escalation, RatePlan, Transaction, utcnow
from activation.secrets import Vault
from activation.validators import ein_problem, esn_problem, npa_nxx_problem, ssn_problem

FINISHED = ("active", "closed")
IN_FLIGHT = ("assigning", "delayed", "credit_check")


class Refused(Exception):
    """The action does not fit the transaction as it stands; the message says why."""


@dataclass(frozen=True)
class Field:
    """A value of the transaction a CSR may correct."""

    label: str
    column: str
    secret: bool = False


CORRECTABLE = {
    "esn": Field("ESN", "esn"),
    "customer_kind": Field("Customer kind (individual/business)", "customer_kind"),
    "ssn": Field("SSN or tax ID", "ssn_encrypted", secret=True),
    "bureau_name": Field("Name", "bureau_name"),
    "bureau_address": Field("Address", "bureau_address"),
    "rate_plan_code": Field("Rate plan", "rate_plan_code"),
    "npa_nxx": Field("NPA-NXX", "npa_nxx"),
    "deposit_method": Field("Deposit method (cash/check)", "deposit_method"),
}


def open_to_csr(tx: Transaction) -> None:
    """Refuse any change to a transaction that is finished or waiting on an outside system."""
    if tx.status in FINISHED:
        raise Refused(f"transaction {tx.code} is {tx.status}")
    if tx.status in IN_FLIGHT:
        raise Refused(f"transaction {tx.code} is waiting ({tx.status}); let it finish first")


def correct_value(
    session: Session, vault: Vault, tx: Transaction, field: str, value: str, actor: str
) -> None:
    """Replace one entered value after checking it by the rules the call applies."""
    open_to_csr(tx)
    if field not in CORRECTABLE:
        raise Refused("that value cannot be corrected here")
    value = value.strip()
    problem = _problem(session, tx, field, value)
    if problem:
        raise Refused(f"{CORRECTABLE[field].label}: {problem}")
    if field == "ssn":
        tx.ssn_encrypted = vault.encrypt(value)
        tx.ssn_hash = vault.lookup_hash(value)
        tx.ssn_last4 = value[-4:]
        tx.credit_decision, tx.customer_id = None, None
        audit.record(session, "transaction", tx.code, tx.status, tx.status, actor, "SSN corrected")
        # A new SSN needs the bureau again: the same credit check activity the call queues.
        audit.set_status(session, tx, "credit_check", actor, "credit check asked")
        activities.enqueue(session, "credit_check", {}, target="bureau", transaction_id=tx.id)
        return
    setattr(tx, CORRECTABLE[field].column, value)
    if field == "deposit_method" and tx.customer is not None:
        tx.customer.deposit_method = value
    tx.updated_at = utcnow()
    audit.record(
        session, "transaction", tx.code, tx.status, tx.status, actor, f"{field} set to {value}"
    )


def _problem(session: Session, tx: Transaction, field: str, value: str) -> str | None:
    if field == "esn":
        return esn_problem(value)
    if field == "ssn":
        return ein_problem(value) if tx.customer_kind == "business" else ssn_problem(value)
    if field == "customer_kind":
        return None if value in ("individual", "business") else "individual or business"
    if field == "deposit_method":
        return None if value in ("cash", "check") else "cash or check"
    if field == "rate_plan_code":
        plan = session.get(RatePlan, value)
        return None if plan is not None and plan.active else "no such active rate plan"
    if field == "npa_nxx":
        problem = npa_nxx_problem(value)
        if problem is None and numbers.serving_switch(session, value) is None:
            problem = "not served by any active switch"
        return problem
    return None if 0 < len(value) <= 120 else "1 to 120 characters"


def approve_deposit(
    session: Session, tx: Transaction, deposit_cents: int, method: str, actor: str
) -> None:
    """Approve the customer's credit with a deposit (a declined credit too) and keep them."""
    open_to_csr(tx)
    if not tx.ssn_encrypted or not tx.bureau_name:
        raise Refused("the credit bureau has not named the customer yet")
    if not 0 <= deposit_cents <= 1_000_000:
        raise Refused("the deposit must be between 0 and 10,000 dollars")
    if deposit_cents and method not in ("cash", "check"):
        raise Refused("say how the deposit is paid: cash or check")
    tx.credit_decision = "approve"
    tx.deposit_cents, tx.deposit_method = deposit_cents, method if deposit_cents else ""
    customer = keep_customer(session, tx)
    customer.deposit_cents, customer.deposit_method = deposit_cents, tx.deposit_method or ""
    if tx.status == "declined":
        audit.set_status(session, tx, "escalated", actor, "credit approved by CSR")
    dollars = f"{deposit_cents / 100:,.2f}"
    audit.record(
        session,
        "transaction",
        tx.code,
        tx.status,
        tx.status,
        actor,
        f"deposit approved: ${dollars} {tx.deposit_method}".strip(),
    )


def send_to_switch(session: Session, tx: Transaction, npa_nxx: str, actor: str) -> str:
    """Reserve the next free MID of the NPA-NXX and queue its insertion, as the call does."""
    open_to_csr(tx)
    missing = [
        label
        for label, value in (
            ("ESN", tx.esn),
            ("approved credit", tx.customer_id and tx.credit_decision == "approve"),
            ("rate plan", tx.rate_plan_code),
        )
        if not value
    ]
    if missing:
        raise Refused("first settle: " + ", ".join(missing))
    if tx.mid:
        raise Refused(f"MID {tx.mid} is already reserved for this transaction")
    problem = _problem(session, tx, "npa_nxx", npa_nxx)
    if problem:
        raise Refused(f"NPA-NXX: {problem}")
    switch = numbers.serving_switch(session, npa_nxx)
    assert switch is not None
    tx.npa_nxx = npa_nxx
    if not start_insert(session, tx, switch.id, switch.name):
        raise Refused(f"no free numbers left in {npa_nxx}")
    audit.set_status(session, tx, "assigning", actor, f"MID reserved on {switch.name} by CSR")
    settle_escalations(session, tx.id, "resolved", actor, f"MID {tx.mid} sent to {switch.name}")
    return tx.mid or ""


def close_transaction(session: Session, tx: Transaction, reason: str, actor: str) -> None:
    """Close a transaction that will not be activated, with the reason."""
    if not reason.strip():
        raise Refused("give the reason for closing")
    open_to_csr(tx)
    if tx.mid:
        numbers.set_number(session, tx.mid, "free", None)
        tx.mid = None
    audit.set_status(session, tx, "closed", actor, f"closed: {reason.strip()}")
    settle_escalations(session, tx.id, "closed", actor, reason.strip())


def settle_escalations(
    session: Session, transaction_id: int, state: str, actor: str, detail: str
) -> None:
    """Mark every open escalation of a transaction resolved or closed."""
    for esc in session.scalars(
        select(Escalation).where(
            Escalation.transaction_id == transaction_id, Escalation.state == "open"
        )
    ):
        close_escalation(session, esc, state, actor, detail)


def close_escalation(
    session: Session, esc: Escalation, state: str, actor: str, detail: str
) -> None:
    """Take an escalation off the open list, audited."""
    if esc.state != "open":
        raise Refused(f"escalation {esc.id} is already {esc.state}")
    audit.record(session, "escalation", str(esc.id), esc.state, state, actor, detail)
    esc.state = state


def retry_activity(session: Session, activity: Activity, reason: str, actor: str) -> None:
    """Make a pending or failed activity due now, with one more attempt if it had none left."""
    if not reason.strip():
        raise Refused("give the reason for the retry")
    if activity.state not in ("pending", "failed"):
        raise Refused(f"activity {activity.id} is {activity.state}")
    old = activity.state
    session.execute(
        update(Activity)
        .where(Activity.id == activity.id)
        .values(
            state="pending",
            next_try_at=utcnow(),
            max_attempts=max(activity.max_attempts, activity.attempts + 1),
        )
    )
    audit.record(session, "activity", str(activity.id), old, "pending", actor, f"retry: {reason}")


def remove_activity(session: Session, activity: Activity, reason: str, actor: str) -> None:
    """Take a pending or failed activity out of the queue; a switch insert goes back to a CSR."""
    if not reason.strip():
        raise Refused("give the reason for the removal")
    if activity.state not in ("pending", "failed"):
        raise Refused(f"activity {activity.id} is {activity.state}")
    old = activity.state
    activity.state = "removed"
    audit.record(session, "activity", str(activity.id), old, "removed", actor, f"removed: {reason}")
    tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
    if tx is None or activity.type not in ("switch_insert", "credit_check"):
        return
    if activity.type == "switch_insert" and tx.status != "active":
        mid = activity.payload.get("subscriber", {}).get("mid")
        if mid and tx.mid == mid:
            numbers.set_number(session, mid, "free", None)
            tx.mid = None
    if tx.status not in FINISHED:
        # Nothing will move the transaction on by itself now: a CSR has to take it.
        audit.set_status(session, tx, "incomplete", actor, f"{activity.type} removed")
        escalate(session, f"{activity.type} removed from queue", tx.step, tx=tx, actor=actor)
