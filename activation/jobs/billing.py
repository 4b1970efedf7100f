"""Billing records: sent once a MID is active, withdrawn when the MID is given back.

A record bills the number its transaction holds when it is sent, as the line stands then (or as
its open order will leave it): one
queued for a number the transaction no longer holds (denied on the call-back, or taken back by
a CSR) is withdrawn, never sent. The nightly comparison's re-sends (`repair_of_run`) are sent
the same way, for a suspended line too, and a disconnected line's final record; they are
withdrawn while an order is open on the line (its own update carries the record) and never
write a welcome letter.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.followup import letters
from activation.lifecycle import states
from activation.lifecycle.assignment import billing_record
from activation.lifecycle.orders import billed_after
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.parties.ports import BillingRecord, BillingUnavailable
from activation.services import Services
from activation.store.models import Activity, Transaction
from activation.store.orders import Order


def send(work: BillingRecord | str, services: Services) -> dict[str, Any]:
    """Send a record to billing; a reason instead of a record withdraws it unsent."""
    if isinstance(work, str):
        return {"outcome": "withdrawn", "why": work}
    services.billing.submit(work)
    return {"outcome": "accepted"}


class BillingRecordJob:
    """Send the billing record; billing keeps one record per transaction."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        fields = {k: v for k, v in activity.payload.items() if k != "repair_of_run"}
        record = BillingRecord(**fields)
        tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
        if tx is None:
            return record
        repair = "repair_of_run" in activity.payload
        if repair and tx.open_order_id is not None:
            return f"an order is open on {record.mid}: its update carries the record"
        if tx.status in IN_SERVICE and tx.mid == record.mid:
            order = session.get(Order, tx.open_order_id) if tx.open_order_id else None
            # With an order on its way, bill the line as the order leaves it (as the order's
            # own update does), so a record that waited for billing never undoes the order.
            return billing_record(tx) if order is None else billed_after(tx, order)
        final = record.line_state == "disconnected" and tx.status == TxStatus.DISCONNECTED
        if repair and final and tx.former_mid == record.mid:
            return record
        return f"MID {record.mid} no longer held by transaction {tx.code} ({tx.status})"

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        return send(work, services)

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
        if result["outcome"] == "withdrawn":
            if tx is not None:
                states.note(session, tx, "worker", f"billing record withdrawn: {result['why']}")
            return
        repair = "repair_of_run" in activity.payload
        if services.settings.letters_online and tx is not None and not repair:
            letters.enqueue(session, tx.id)


class BillingDeleteJob:
    """Withdraw the billing record of a denied MID (billing keeps one per transaction)."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        sending = session.scalar(
            select(Activity.id).where(
                Activity.transaction_id == activity.transaction_id,
                Activity.type == "billing_record",
                Activity.state == "running",
            )
        )
        if sending is not None:
            # Deleting now could come before the record arrives: wait for it, then delete.
            raise BillingUnavailable("the billing record is being sent; delete it after")
        return activity.payload["transaction_code"]

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        return {"outcome": "deleted" if services.billing.delete(work) else "none held"}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        return None
