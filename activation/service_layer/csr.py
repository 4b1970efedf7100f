"""What a CSR does to finish a transaction, through the same core as the call; all audited.

Each use case opens its own unit of work, locks the transaction before anything else, moves
it only through the state machine, and raises Refused with a sentence for the CSR when the
transaction is not in a state that allows the action (NotFound when there is no such thing).
No HTTP here: the console's views parse a form, call one of these, and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from activation.lifecycle import assignment, numbers, orders, states
from activation.lifecycle.customers import keep_customer
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import FINISHED, IN_FLIGHT, Move, MoveRefused, TxStatus
from activation.queue import activities, wakeup
from activation.services import Services
from activation.store import audit
from activation.store.models import Activity, Escalation, RatePlan, Transaction, utcnow
from activation.store.orders import Order
from activation.validators import ein_problem, esn_problem, npa_nxx_problem, ssn_problem


class Refused(Exception):
    """The action does not fit the transaction as it stands; the message says why."""


class NotFound(Refused):
    """No such transaction, escalation or activity."""


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


def can_act(status: str) -> bool:
    """Tell whether a CSR may change a transaction in this status."""
    return status not in FINISHED and status not in IN_FLIGHT


def unsettled(tx: Transaction) -> list[str]:
    """What a transaction still lacks before a number can be sent to its switch."""
    return [
        label
        for label, value in (
            ("ESN", tx.esn),
            ("approved credit", tx.customer_id and tx.credit_decision == "approve"),
            ("rate plan", tx.rate_plan_code),
        )
        if not value
    ]


def _open_to_csr(tx: Transaction) -> None:
    if tx.status in FINISHED:
        raise Refused(f"transaction {tx.code} is {tx.status}")
    if tx.status in IN_FLIGHT:
        raise Refused(f"transaction {tx.code} is waiting ({tx.status}); let it finish first")


def _locked(session: Session, code: str) -> Transaction:
    found = session.scalar(select(Transaction.id).where(Transaction.code == code))
    if found is None:
        raise NotFound(f"No transaction {code}.")
    return states.lock(session, found)


def _refused(refusal: MoveRefused) -> Refused:
    return Refused(f"transaction {refusal.code} is {refusal.current} now")


def correct_value(services: Services, code: str, field: str, value: str, actor: str) -> str:
    """Replace one entered value after checking it by the rules the call applies."""
    if field not in CORRECTABLE:
        raise Refused("that value cannot be corrected here")
    value = value.strip()
    with services.db.transaction() as session:
        tx = _locked(session, code)
        _open_to_csr(tx)
        problem = _problem(session, tx, field, value)
        if problem:
            raise Refused(f"{CORRECTABLE[field].label}: {problem}")
        if field == "ssn":
            vault = services.vault
            tx.ssn_encrypted = vault.encrypt(value)
            tx.ssn_hash = vault.lookup_hash(value)
            tx.ssn_last4 = value[-4:]
            tx.credit_decision, tx.customer_id = None, None
            states.note(session, tx, actor, "SSN corrected")
            # A new SSN needs the bureau again: the same credit check activity the call queues.
            states.move(session, tx, Move.ASK_CREDIT, actor, "credit check asked")
            activities.enqueue(session, "credit_check", {}, target="bureau", transaction_id=tx.id)
        else:
            setattr(tx, CORRECTABLE[field].column, value)
            if field == "deposit_method" and tx.customer is not None:
                tx.customer.deposit_method = value
            tx.updated_at = utcnow()
            states.note(session, tx, actor, f"{field} set to {value}")
    return f"{CORRECTABLE[field].label} corrected."


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
    services: Services, code: str, deposit_cents: int, method: str, actor: str
) -> str:
    """Approve the customer's credit with a deposit (a declined credit too) and keep them."""
    if not 0 <= deposit_cents <= 1_000_000:
        raise Refused("the deposit must be between 0 and 10,000 dollars")
    if deposit_cents and method not in ("cash", "check"):
        raise Refused("say how the deposit is paid: cash or check")
    with services.db.transaction() as session:
        tx = _locked(session, code)
        _open_to_csr(tx)
        if not tx.ssn_encrypted or not tx.bureau_name:
            raise Refused("the credit bureau has not named the customer yet")
        tx.credit_decision = "approve"
        tx.deposit_cents, tx.deposit_method = deposit_cents, method if deposit_cents else ""
        customer = keep_customer(session, tx)
        customer.deposit_cents, customer.deposit_method = deposit_cents, tx.deposit_method or ""
        if tx.status == TxStatus.DECLINED:
            states.move(session, tx, Move.APPROVE_CREDIT, actor, "credit approved by CSR")
        dollars = f"{deposit_cents / 100:,.2f}"
        states.note(session, tx, actor, f"deposit approved: ${dollars} {tx.deposit_method}".strip())
    return f"Credit approved with a deposit of ${dollars}."


def send_to_switch(services: Services, code: str, npa_nxx: str, actor: str) -> str:
    """Claim the next free MID of the NPA-NXX and queue its insertion, as the call does."""
    npa_nxx = npa_nxx.strip()
    with services.db.transaction() as session:
        tx = _locked(session, code)
        _open_to_csr(tx)
        missing = unsettled(tx)
        if missing:
            raise Refused("first settle: " + ", ".join(missing))
        problem = _problem(session, tx, "npa_nxx", npa_nxx)
        if problem:
            raise Refused(f"NPA-NXX: {problem}")
        switch = numbers.serving_switch(session, npa_nxx)
        assert switch is not None
        tx.npa_nxx = npa_nxx
        try:
            mid = assignment.claim(session, tx, switch, actor)
        except MoveRefused as refusal:
            raise _refused(refusal) from None
        if mid is None:
            raise Refused(f"no free numbers left in {npa_nxx}")  # nothing of it is kept
        _settle_escalations(session, tx.id, "resolved", actor, f"MID {mid} sent to {switch.name}")
    return f"MID {mid} reserved and queued for its switch."


def close_transaction(services: Services, code: str, reason: str, actor: str) -> str:
    """Close a transaction that will not be activated, with the reason."""
    reason = reason.strip()
    if not reason:
        raise Refused("give the reason for closing")
    with services.db.transaction() as session:
        tx = _locked(session, code)
        _open_to_csr(tx)
        try:
            states.move(session, tx, Move.CLOSE, actor, f"closed: {reason}")
        except MoveRefused as refusal:
            raise _refused(refusal) from None
        assignment.give_back(session, tx)
        _settle_escalations(session, tx.id, "closed", actor, reason)
    return f"Transaction {code} closed."


def close_escalation(services: Services, esc_id: int, note: str, actor: str) -> str:
    """Take an escalation off the open list without changing its transaction."""
    with services.db.transaction() as session:
        esc = session.get(Escalation, esc_id, with_for_update=True)
        if esc is None:
            raise NotFound(f"No escalation {esc_id}.")
        _close_escalation(session, esc, "closed", actor, note)
    return f"Escalation {esc_id} closed."


def _settle_escalations(
    session: Session, transaction_id: int, state: str, actor: str, detail: str
) -> None:
    for esc in session.scalars(
        select(Escalation).where(
            Escalation.transaction_id == transaction_id, Escalation.state == "open"
        )
    ):
        _close_escalation(session, esc, state, actor, detail)


def close_open_escalation(
    session: Session, esc: Escalation, state: str, actor: str, detail: str
) -> None:
    """Settle an open escalation (closed, resolved) with what was done, audited."""
    _close_escalation(session, esc, state, actor, detail)


def _close_escalation(
    session: Session, esc: Escalation, state: str, actor: str, detail: str
) -> None:
    if esc.state != "open":
        raise Refused(f"escalation {esc.id} is already {esc.state}")
    audit.record(session, "escalation", str(esc.id), esc.state, state, actor, detail)
    esc.state = state


def activity_actions(state: str, next_try_at: datetime, now: datetime) -> tuple[str, ...]:
    """What a supervisor may do to an activity now: "retry", "remove", both or neither.

    A failed activity may be retried or removed. A pending one may be removed, and retried
    only while it waits for a later try: one already due is the worker's to take. Running
    and finished work is left alone.
    """
    if state == "failed":
        return ("retry", "remove")
    if state == "pending":
        return ("retry", "remove") if next_try_at > now else ("remove",)
    return ()


def _activity(
    session: Session, activity_id: int, action: str
) -> tuple[Activity, Transaction | None]:
    """The activity and its transaction, locked transaction first as everywhere."""
    owner = session.scalar(select(Activity.transaction_id).where(Activity.id == activity_id))
    tx = states.lock(session, owner) if owner is not None else None
    activity = session.get(Activity, activity_id, with_for_update=True, populate_existing=True)
    if activity is None:
        raise NotFound(f"No activity {activity_id}.")
    if action not in activity_actions(activity.state, activity.next_try_at, utcnow()):
        if activity.state == "pending":
            raise Refused(f"activity {activity.id} is due now: the worker takes it as it is")
        raise Refused(f"activity {activity.id} is {activity.state}")
    return activity, tx


def retry_activity(services: Services, activity_id: int, reason: str, actor: str) -> str:
    """Make a failed activity, or a pending one waiting for a later try, due now, with one
    more attempt if it had none left."""
    if not reason.strip():
        raise Refused("give the reason for the retry")
    with services.db.transaction() as session:
        activity, _ = _activity(session, activity_id, "retry")
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
        audit.record(
            session, "activity", str(activity.id), old, "pending", actor, f"retry: {reason}"
        )
        wakeup.announce(session)
        orders.resume_held(session, activity.order_id, actor)
    return f"Activity {activity_id} will be retried now."


def remove_activity(services: Services, activity_id: int, reason: str, actor: str) -> str:
    """Take a pending or failed activity out of the queue; its transaction goes to a CSR."""
    if not reason.strip():
        raise Refused("give the reason for the removal")
    with services.db.transaction() as session:
        activity, tx = _activity(session, activity_id, "remove")
        old = activity.state
        activity.state = "removed"
        audit.record(
            session, "activity", str(activity.id), old, "removed", actor, f"removed: {reason}"
        )
        if tx is not None and activity.type in ("switch_insert", "credit_check"):
            _work_removed(session, tx, activity, actor)
        order = session.get(Order, activity.order_id) if activity.order_id else None
        if order is not None:
            orders.hold(session, order, f"{activity.type} removed from queue", actor)
    return f"Activity {activity_id} removed."


def _work_removed(session: Session, tx: Transaction, activity: Activity, actor: str) -> None:
    """Nothing will move the transaction on by itself now: a CSR has to take it."""
    if not states.allowed(tx.status, Move.WORK_REMOVED):
        return  # a repair of an active line, or work its transaction no longer waited for
    if activity.type == "switch_insert":
        mid = activity.payload.get("subscriber", {}).get("mid")
        if mid and tx.mid == mid:
            assignment.take_back(session, tx, activity)
    states.move(session, tx, Move.WORK_REMOVED, actor, f"{activity.type} removed")
    reason = f"{activity.type} removed from queue"
    escalate(session, reason, tx.step, tx=tx, actor=actor, kind="queue")
