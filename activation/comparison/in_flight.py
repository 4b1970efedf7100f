"""What is under way on a side while the comparison reads it: MIDs in flight, never discrepancies.

A MID is in flight for its switch while a switch activity of it is queued or running (an
insertion, an order's change, a denied MID's removal), and for billing while a billing activity
of its line is (a record, an order's update, a withdrawal). An open order makes its line's MID
in flight on both sides whatever its activities have done: CAS changes the line only when the
order completes, so until then the network may hold the new values and CAS the old ones.

Work queued after the run began is found after the merge (`after_id`), whatever became of it:
it may have reached the side before or after the side was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from activation.lifecycle.order_states import OrderStatus
from activation.store.db import Database
from activation.store.models import Activity, Transaction
from activation.store.orders import Order

SWITCH_WORK = ("switch_insert", "switch_change", "switch_delete")
BILLING_WORK = ("billing_record", "billing_update", "billing_delete")
OPEN_ORDER = (OrderStatus.ACKNOWLEDGED, OrderStatus.IN_PROGRESS, OrderStatus.HELD)


@dataclass
class UnderWay:
    """Work under way, by MID and (billing's records are a transaction's) by transaction."""

    mids: dict[str, str] = field(default_factory=dict)  # MID -> what is under way
    codes: dict[str, str] = field(default_factory=dict)  # transaction code -> what
    transactions: dict[int, str] = field(default_factory=dict)  # transaction id -> what

    def __bool__(self) -> bool:
        return bool(self.mids or self.codes or self.transactions)

    def of(self, mid: str, *codes: str) -> str | None:
        """What is under way on the MID, or on the record of any of the transactions."""
        found = self.mids.get(mid)
        if found is not None:
            return found
        for code in codes:
            found = self.codes.get(code)
            if found is not None:
                return found
        return None


def last_activity_id(db: Database) -> int:
    """The newest activity's id: what is queued after it is queued during the run."""
    with db.read() as session:
        return int(session.scalar(select(func.max(Activity.id))) or 0)


def _which(after_id: int | None) -> ColumnElement[bool]:
    if after_id is None:
        return Activity.state.in_(("pending", "running"))
    return Activity.id > after_id


def switch_work(
    db: Database, switch_id: int, switch_name: str, after_id: int | None = None
) -> dict[str, str]:
    """MIDs of the switch in flight, each with what is under way on it.

    With `after_id`: every switch activity queued after that one, whatever became of it.
    """
    found: dict[str, str] = {}
    with db.read() as session:
        if after_id is None:  # an open order names itself, whatever its activities did
            for mid, _, what in _open_orders(session, Transaction.switch_name == switch_name):
                found[mid] = what
        rows = session.execute(
            select(Activity.id, Activity.type, Activity.payload).where(
                Activity.type.in_(SWITCH_WORK), _which(after_id)
            )
        )
        for activity_id, type_, payload in rows:
            if payload.get("switch_id") != switch_id:
                continue
            mid = payload["subscriber"]["mid"] if type_ == "switch_insert" else payload["mid"]
            command = f" ({payload['command']})" if type_ == "switch_change" else ""
            found.setdefault(mid, f"{type_} activity {activity_id}{command}")
    return found


def billing_work(db: Database, after_id: int | None = None) -> UnderWay:
    """Lines whose billing record is being sent, changed or withdrawn, or with an order open.

    With `after_id`: every billing activity queued after that one, whatever became of it.
    """
    under = UnderWay()
    with db.read() as session:
        if after_id is None:  # an open order names itself, whatever its activities did
            for mid, code, what in _open_orders(session, Transaction.mid.is_not(None)):
                under.mids[mid] = under.codes[code] = what
        rows = session.execute(
            select(Activity.id, Activity.type, Activity.transaction_id, Activity.payload).where(
                Activity.type.in_(BILLING_WORK), _which(after_id)
            )
        )
        for activity_id, type_, transaction_id, payload in rows:
            what = f"{type_} activity {activity_id}"
            if payload.get("mid"):
                under.mids.setdefault(payload["mid"], what)
            if payload.get("transaction_code"):
                under.codes.setdefault(payload["transaction_code"], what)
            if transaction_id is not None:
                under.transactions.setdefault(transaction_id, what)
    return under


def _open_orders(session: Session, lines: ColumnElement[bool]) -> list[tuple[str, str, str]]:
    """(MID, transaction code, "order CODE (type, status)") of every line with an order open."""
    rows = session.execute(
        select(Transaction.mid, Transaction.code, Order.code, Order.type, Order.status)
        .join(Transaction, Transaction.id == Order.transaction_id)
        .where(Order.status.in_(OPEN_ORDER), Transaction.open_order_id == Order.id, lines)
    )
    return [
        (mid, tx_code, f"order {code} ({type_}, {status})")
        for mid, tx_code, code, type_, status in rows
        if mid
    ]


__all__ = [
    "BILLING_WORK",
    "SWITCH_WORK",
    "UnderWay",
    "billing_work",
    "last_activity_id",
    "switch_work",
]
