"""Telling partners: an order's state change queues a signed notice to the partner's URL.

An activate order's state follows its transaction (ACTIVATION_STATE); every other order's
follows its own moves. A notice is an activity like any other: retried with back-off, and
visible when it fails for good.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.lifecycle.order_states import ACTIVATION_STATE
from activation.lifecycle.states import TxStatus
from activation.queue import activities
from activation.store.models import Transaction, utcnow
from activation.store.orders import NotificationTarget, Order


def transaction_moved(session: Session, tx: Transaction) -> None:
    """Bring an activate order's state to its transaction's, and tell the partner."""
    order = session.scalar(
        select(Order).where(Order.transaction_id == tx.id, Order.type == "activate")
    )
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


def order_moved(session: Session, order: Order) -> None:
    """Queue the notice of an order's new state, when its partner asked for notices."""
    if order.api_key_id is None:
        return
    target = session.scalar(
        select(NotificationTarget).where(NotificationTarget.api_key_id == order.api_key_id)
    )
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
