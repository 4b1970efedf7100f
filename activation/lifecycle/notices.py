"""Telling partners: an order's state change queues a signed notice to the partner's URL.

An activate order's state follows its transaction (ACTIVATION_STATE); every other order's
follows its own moves. A notice is an activity like any other: retried with back-off, and
visible when it fails for good.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from activation.lifecycle.order_states import ACTIVATION_STATE
from activation.lifecycle.states import TxStatus
from activation.queue import activities
from activation.store.models import Transaction, utcnow
from activation.store.orders import NotificationTarget, Order

# Built once: asked at every move of every transaction.
_ACTIVATE_ORDER = select(Order).where(
    Order.transaction_id == bindparam("transaction_id"), Order.type == "activate"
)


def transaction_moved(session: Session, tx: Transaction) -> None:
    """Bring an activate order's state to its transaction's, and tell the partner."""
    if not tx.by_order:
        return  # opened by a call: no order mirrors it
    order = session.scalar(_ACTIVATE_ORDER, {"transaction_id": tx.id})
    if order is None:
        return
    state = ACTIVATION_STATE[TxStatus(tx.status)]
    if order.status == state:
        return
    order.status, order.updated_at = state, utcnow()
    if state == "completed":
        order.completed_at = order.updated_at
        order.mid = tx.mid
    order_moved(session, order)


_TARGET = select(NotificationTarget).where(NotificationTarget.api_key_id == bindparam("api_key_id"))


def order_moved(session: Session, order: Order) -> None:
    """Queue the notice of an order's new state, when its partner asked for notices."""
    if order.api_key_id is None:
        return
    target = session.scalar(_TARGET, {"api_key_id": order.api_key_id})
    if target is None:
        return
    activities.enqueue(
        session,
        "order_notice",
        {
            "target_id": target.id,
            "order": order.code,
            "state": order.status,
            "at": utcnow().isoformat(),
        },
        target="partner",
        order_id=order.id,
    )
