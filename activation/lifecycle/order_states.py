"""The life of an order on a line, in TM Forum TMF622's words: one table, one function that moves.

Rules (as for transactions, activation/lifecycle/states.py):
- An order's status changes only through `move_order()`, which reads it under the row lock,
  checks the move against ORDER_TRANSITIONS, audits it, and refuses anything else.
- An activate order has no life of its own: its state is its transaction's, translated by
  ACTIVATION_STATE whenever the transaction moves.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from activation.lifecycle.states import TxStatus, checked_status
from activation.store import audit
from activation.store.models import utcnow
from activation.store.orders import Order


class OrderStatus(StrEnum):
    """Where an order stands, as a partner reads it."""

    ACKNOWLEDGED = "acknowledged"  # taken and checked, its work not yet queued
    IN_PROGRESS = "inProgress"  # its activities are on the queue
    HELD = "held"  # a network resource refused or gave up: a CSR decides
    COMPLETED = "completed"  # every resource did its part; the line changed
    FAILED = "failed"  # given up; the line is as it was, or a CSR mends it by hand
    REJECTED = "rejected"  # an activation the customer is not eligible for (credit declined)
    CANCELLED = "cancelled"  # an activation a CSR closed, or whose MID the agent denied


class OrderMove(StrEnum):
    """What can happen to an order."""

    START = "start"
    COMPLETE = "complete"
    HOLD = "hold"
    RETRY = "retry"
    FAIL = "fail"


OS, OM = OrderStatus, OrderMove

ORDER_TRANSITIONS: dict[tuple[OrderStatus, OrderMove], OrderStatus] = {
    (OS.ACKNOWLEDGED, OM.START): OS.IN_PROGRESS,
    (OS.IN_PROGRESS, OM.COMPLETE): OS.COMPLETED,
    (OS.IN_PROGRESS, OM.HOLD): OS.HELD,
    (OS.IN_PROGRESS, OM.FAIL): OS.FAILED,
    (OS.HELD, OM.RETRY): OS.IN_PROGRESS,
    (OS.HELD, OM.FAIL): OS.FAILED,
}

OPEN = frozenset({OS.ACKNOWLEDGED, OS.IN_PROGRESS, OS.HELD})

# An activate order's state, from its transaction's status.
ACTIVATION_STATE: dict[TxStatus, OrderStatus] = {
    TxStatus.INCOMPLETE: OS.IN_PROGRESS,
    TxStatus.ABANDONED: OS.HELD,
    TxStatus.CREDIT_CHECK: OS.IN_PROGRESS,
    TxStatus.ASSIGNING: OS.IN_PROGRESS,
    TxStatus.DELAYED: OS.IN_PROGRESS,
    TxStatus.ESCALATED: OS.HELD,
    TxStatus.DECLINED: OS.REJECTED,
    TxStatus.ACTIVE: OS.COMPLETED,
    TxStatus.SUSPENDED: OS.COMPLETED,
    TxStatus.DISCONNECTED: OS.COMPLETED,
    TxStatus.CLOSED: OS.CANCELLED,
    TxStatus.DENIED: OS.CANCELLED,
}


class OrderRefused(Exception):
    """The move does not fit the order's status."""

    def __init__(self, code: str, current: OrderStatus, move: OrderMove) -> None:
        super().__init__(f"order {code} is {current}: cannot {move}")
        self.code = code
        self.current = current
        self.move = move


def order_allowed(status: str, move: OrderMove) -> bool:
    """Tell whether the table allows a move from a status."""
    return (OrderStatus(status), move) in ORDER_TRANSITIONS


def move_order(
    session: Session, order: Order, what: OrderMove, actor: str, detail: str = ""
) -> OrderStatus:
    """Move an order under its row lock and audit it; refuse what the table does not allow."""
    current = OrderStatus(checked_status(session, order, Order))
    target = ORDER_TRANSITIONS.get((current, what))
    if target is None:
        raise OrderRefused(order.code, current, what)
    audit.record(session, "order", order.code, current, target, actor, detail or what)
    order.status = target
    order.updated_at = utcnow()
    if target == OS.COMPLETED:
        order.completed_at = order.updated_at
    if target in (OS.FAILED, OS.HELD) and detail:
        order.failure = detail[:200]
    from activation.lifecycle import notices

    notices.order_moved(session, order)
    return target
