"""E911: a line's service address registered when its MID becomes active, removed at its end.

A registration is made for the number its transaction holds when it is sent: one queued for
a number the transaction no longer holds (denied on the call-back, taken back by a CSR) is
withdrawn, never sent. Every attempt of one activity carries the same idempotency key, and a
repeated attempt asks the provider first, so a retry never registers twice. An address the
provider refuses is a CSR's work (escalated), not retried.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.lifecycle import orders, states
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import TxStatus
from activation.parties.ports import E911Refused, E911Registration, E911Unavailable
from activation.services import Services
from activation.store.models import Activity, Transaction
from activation.store.orders import Order


def idempotency_key(activity: Activity) -> str:
    """The key every attempt of one activity sends, and no other activity."""
    return f"cas-{activity.type}-{activity.payload['transaction_code']}-{activity.id}"


class E911RegisterJob:
    """Register the service address of an active MID with the E911 provider."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        registration = E911Registration(**activity.payload)
        tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
        if tx is not None and (tx.status != TxStatus.ACTIVE or tx.mid != registration.mid):
            return f"MID {registration.mid} no longer held by transaction {tx.code} ({tx.status})"
        return registration, idempotency_key(activity)

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        if isinstance(work, str):
            return {"outcome": "withdrawn", "why": work}
        registration, key = work
        if attempt > 1 and services.e911.lookup(registration.mid) == registration:
            return {"outcome": "registered", "asked_first": True}
        try:
            services.e911.register(registration, key)
        except E911Refused as refused:
            return {"outcome": "refused", "reason": str(refused)[:200]}
        return {"outcome": "registered"}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
        if tx is None:
            return
        mid = activity.payload["mid"]
        if result["outcome"] == "withdrawn":
            states.note(session, tx, "worker", f"E911 registration withdrawn: {result['why']}")
        elif result["outcome"] == "refused":
            reason = f"E911 refused the address of MID {mid}"
            states.note(session, tx, "worker", f"{reason}: {result['reason']}"[:200])
            escalate(session, reason, tx.step, tx=tx, actor="worker", kind="e911")


class E911RemoveJob:
    """Remove a number's registration (a denied MID, a disconnected line)."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        sending = session.scalar(
            select(Activity.id).where(
                Activity.transaction_id == activity.transaction_id,
                Activity.type == "e911_register",
                Activity.state == "running",
            )
        )
        if sending is not None:
            # Removing now could come before the registration arrives: wait for it.
            raise E911Unavailable("the registration is being sent; remove it after")
        payload = activity.payload
        return payload["mid"], payload["transaction_code"], idempotency_key(activity)

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        mid, code, key = work
        removed = services.e911.remove(mid, code, key)
        return {"outcome": "removed" if removed else "none held"}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        if activity.order_id is not None:  # a disconnect order's part: it may be the last one
            order = session.get_one(Order, activity.order_id)
            orders.finish_if_done(session, order, services.settings.number_aging_days)

    def failed(self, session: Session, activity: Activity, error: str) -> None:
        if activity.order_id is not None:
            orders.hold(
                session, session.get_one(Order, activity.order_id), f"E911 gave up: {error}"
            )
