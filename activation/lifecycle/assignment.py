"""A number for a transaction: claimed once, reserved atomically, its insertion queued.

The claim is the state machine's CLAIM_NUMBER move, made under the transaction's row lock
before any number is touched: a second session on the same transaction is refused there and
never reserves. Within the claim the transaction holds at most one number at a time: a number
the switch turns out to carry for someone else is blocked and the next one reserved in its
place (`replace_taken`).
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from activation.lifecycle import numbers, states
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import Move
from activation.parties.ports import BillingRecord, E911Registration
from activation.queue import activities
from activation.store.models import Activity, Switch, Transaction

NO_NUMBER = "no free numbers in NPA-NXX"


def claim(session: Session, tx: Transaction, switch: Switch, actor: str) -> str | None:
    """Claim a MID of the transaction's NPA-NXX on its switch and queue the insertion.

    Raises MoveRefused when the transaction does not await a number (it is being assigned one,
    is active, or ended). Returns the MID, or None when the block has no free number left (the
    transaction is then escalated).
    """
    states.move(session, tx, Move.CLAIM_NUMBER, actor, f"number claimed in {tx.npa_nxx}")
    return _reserve(session, tx, switch.id, switch.name, actor)


def replace_taken(session: Session, tx: Transaction, switch_id: int, switch_name: str) -> None:
    """Block the reserved MID (its switch carries it for another handset) and take the next."""
    if tx.mid:
        numbers.set_number(session, tx.mid, "blocked", None)
        states.note(session, tx, "worker", f"MID {tx.mid} held by another handset on the switch")
        tx.mid = None
        session.flush()
    _reserve(session, tx, switch_id, switch_name, "worker")


def _reserve(
    session: Session, tx: Transaction, switch_id: int, switch_name: str, actor: str
) -> str | None:
    mid = numbers.reserve(session, tx.npa_nxx or "", tx)
    if mid is None:
        states.move(session, tx, Move.NO_NUMBER_LEFT, actor, NO_NUMBER)
        escalate(session, NO_NUMBER, tx.step, tx=tx, actor=actor, kind="no_number")
        return None
    tx.mid, tx.switch_name = mid, switch_name
    activities.enqueue(
        session,
        "switch_insert",
        {
            "switch_id": switch_id,
            "subscriber": {"mid": mid, "esn": tx.esn, "features": tx.rate_plan_code or ""},
        },
        target=switch_name,
        transaction_id=tx.id,
        flush=False,  # written with the transaction's number, status and step at the commit
    )
    return mid


def give_back(session: Session, tx: Transaction) -> str | None:
    """Free the MID a transaction holds (not yet on any switch); return it."""
    mid = tx.mid
    if mid:
        numbers.set_number(session, mid, "free", None)
        tx.mid = None
    return mid


def take_back(session: Session, tx: Transaction, insert: Activity) -> None:
    """Give back the MID of an insertion a CSR removed from the queue.

    An insertion never tried leaves nothing on the switch: the number is free at once. One
    that was tried may have been done even though no answer came: the number stays out of
    stock until the switch has let it go (a switch_delete, which frees it when done).
    """
    if insert.attempts == 0:
        give_back(session, tx)
        return
    mid = tx.mid or ""
    numbers.set_number(session, mid, "blocked", tx.id)
    tx.mid = None
    activities.enqueue(
        session,
        "switch_delete",
        {"switch_id": insert.payload["switch_id"], "mid": mid},
        target=insert.target,
        transaction_id=tx.id,
    )


def billing_record(tx: Transaction) -> BillingRecord:
    """The billing record of a line as it stands."""
    return BillingRecord(
        transaction_code=tx.code,
        mid=tx.mid or "",
        esn=tx.esn or "",
        rate_plan=tx.rate_plan_code or "",
        customer_name=tx.bureau_name or "",
        customer_address=tx.bureau_address or "",
        deposit_cents=tx.deposit_cents or 0,
        deposit_method=tx.deposit_method or "",
        line_state="suspended" if tx.status == "suspended" else "active",
    )


def queue_billing(session: Session, tx: Transaction) -> None:
    """Queue the billing record of a transaction whose MID is active."""
    activities.enqueue(
        session,
        "billing_record",
        asdict(billing_record(tx)),
        target="billing",
        transaction_id=tx.id,
        flush=False,  # with the line's other records, in one INSERT at the commit
    )


def queue_e911(session: Session, tx: Transaction) -> None:
    """Queue the E911 registration of the service address of a transaction whose MID is active."""
    registration = E911Registration(
        mid=tx.mid or "",
        transaction_code=tx.code,
        customer_name=tx.bureau_name or "",
        service_address=tx.bureau_address or "",
    )
    activities.enqueue(
        session,
        "e911_register",
        asdict(registration),
        target="e911",
        transaction_id=tx.id,
        flush=False,
    )


def queue_e911_removal(session: Session, tx: Transaction, mid: str) -> None:
    """Queue the removal of a number's E911 registration made for this transaction."""
    activities.enqueue(
        session,
        "e911_remove",
        {"mid": mid, "transaction_code": tx.code},
        target="e911",
        transaction_id=tx.id,
    )
