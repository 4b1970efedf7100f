"""What each activity type does: read the database, call the outside system, record the answer.

The outside call runs with no database transaction open, so a slow switch never holds a lock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from switch_adapters.port import Subscriber, SwitchDenied

from . import activities, audit, callbacks, credit, letters, numbers
from .escalations import escalate
from .models import Activity, Handset, Switch, Transaction, utcnow
from .ports import BillingRecord, BillingUnavailable
from .services import Services
from .switching import definition


class Job(Protocol):
    """One activity type."""

    # None: done when apply returns. Otherwise the time the outside party has to report the
    # outcome (a call-back's call status) before the attempt counts as failed.
    awaits_report: timedelta | None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any: ...

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]: ...

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None: ...


class CreditCheck:
    """Ask the credit bureau for name, address and score of the transaction's tax id."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        tx = session.get_one(Transaction, activity.transaction_id)
        return tx.customer_kind, tx.ssn_encrypted

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        kind, encrypted = work
        report = services.bureau.report(kind, services.vault.decrypt(encrypted))
        if report is None:
            return {"found": False}
        return {"found": True, **asdict(report)}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        tx = session.get_one(Transaction, activity.transaction_id)
        if result["found"]:
            decision, deposit = credit.decide(session, result["score"])
            tx.bureau_name, tx.bureau_address = result["name"], result["address"]
            tx.credit_score, tx.credit_decision, tx.deposit_cents = (
                result["score"],
                decision,
                deposit,
            )
        else:
            tx.credit_decision = "unknown"
        audit.set_status(session, tx, "incomplete", "worker", f"credit {tx.credit_decision}")


class SwitchInsert:
    """Put the MID on its switch; a repeated attempt asks the switch first, never inserts twice."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        switch = session.get_one(Switch, activity.payload["switch_id"])
        return definition(switch, services.vault), Subscriber(**activity.payload["subscriber"])

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        defn, subscriber = work
        line = services.switches.open(defn)
        try:
            if attempt > 1:
                held = line.query(subscriber.mid)
                if held is not None:
                    return _holder(held, subscriber)
            try:
                line.insert(subscriber)
            except SwitchDenied as denied:
                held = line.query(subscriber.mid)
                if held is not None:
                    return _holder(held, subscriber)
                return {"outcome": "denied", "code": denied.code, "reason": denied.reason}
            return {"outcome": "inserted"}
        finally:
            line.close()

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        tx = session.get_one(Transaction, activity.transaction_id)
        mid = activity.payload["subscriber"]["mid"]
        outcome = result["outcome"]
        if "repair_of_run" in activity.payload:
            _apply_repair(session, activity, tx, mid, result)
        elif outcome == "inserted":
            numbers.set_number(session, mid, "active", tx.id)
            tx.completed_at = utcnow()
            audit.set_status(session, tx, "active", "worker", f"MID on {activity.target}")
            handset = session.get(Handset, tx.esn) or Handset(esn=tx.esn)
            handset.status, handset.updated_at = "active", utcnow()
            session.add(handset)
            enqueue_billing(session, tx)
            if tx.callback_requested:
                callbacks.request(session, tx)
        elif outcome == "taken":
            # The switch already carries this number for someone else: keep it out of stock.
            numbers.set_number(session, mid, "blocked", None)
            tx.mid = None
            session.flush()
            start_insert(session, tx, activity.payload["switch_id"], activity.target)
        else:
            numbers.set_number(session, mid, "free", None)
            tx.mid = None
            escalate(
                session, f"switch denied: {result['reason']}"[:80], tx.step, tx=tx, actor="worker"
            )


def _apply_repair(
    session: Session, activity: Activity, tx: Transaction, mid: str, result: dict[str, Any]
) -> None:
    """Settle a re-insertion the comparison asked for: the customer keeps the number whatever
    the switch says; only a CSR may take it away."""
    run = activity.payload["repair_of_run"]
    if result["outcome"] == "inserted":
        numbers.set_number(session, mid, "active", tx.id)
        audit.record(
            session,
            "transaction",
            tx.code,
            tx.status,
            tx.status,
            "worker",
            f"MID {mid} put back on {activity.target} (comparison run {run})",
        )
        return
    why = "held for another handset" if result["outcome"] == "taken" else result.get("reason", "")
    escalate(session, f"repair refused: {why}"[:80], tx.step, tx=tx, actor="worker")


def _holder(held: Subscriber, wanted: Subscriber) -> dict[str, Any]:
    if held.esn == wanted.esn:
        return {"outcome": "inserted"}
    return {"outcome": "taken"}


class BillingRecordJob:
    """Send the billing record; billing keeps one record per transaction."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
        if tx is not None and tx.status == "denied":
            return None  # the agent denied the MID before billing heard of it
        return BillingRecord(**activity.payload)

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        if work is None:
            return {"outcome": "skipped: MID denied"}
        services.billing.submit(work)
        return {"outcome": "accepted"}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        if services.settings.letters_online and activity.transaction_id is not None:
            letters.enqueue(session, activity.transaction_id)


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


class SwitchDelete:
    """Take a MID off its switch (a denied call-back), then give the number back to stock."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        switch = session.get_one(Switch, activity.payload["switch_id"])
        return definition(switch, services.vault), activity.payload["mid"]

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        defn, mid = work
        line = services.switches.open(defn)
        try:
            try:
                line.delete(mid)
            except SwitchDenied:
                # Refused because it is not there (an earlier attempt deleted it): that is done.
                if line.query(mid) is not None:
                    raise
                return {"outcome": "absent"}
            return {"outcome": "deleted"}
        finally:
            line.close()

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        mid = activity.payload["mid"]
        numbers.set_number(session, mid, "free", None)
        tx = session.get(Transaction, activity.transaction_id)
        if tx is not None and tx.mid == mid:
            tx.mid = None
        if tx is not None and tx.esn:
            handset = session.get(Handset, tx.esn)
            if handset is not None and handset.status == "active":
                handset.status, handset.updated_at = "in_stock", utcnow()
        detail = f"MID {mid} off {activity.target}: {result['outcome']}"
        audit.record(session, "number", mid, "blocked", "free", "worker", detail)


JOBS: dict[str, Job] = {
    "credit_check": CreditCheck(),
    "switch_insert": SwitchInsert(),
    "billing_record": BillingRecordJob(),
    "switch_delete": SwitchDelete(),
    "billing_delete": BillingDeleteJob(),
    "callback": callbacks.CallbackJob(),
    "welcome_letter": letters.WelcomeLetterJob(),
}


def start_insert(session: Session, tx: Transaction, switch_id: int, switch_name: str) -> bool:
    """Reserve the next free MID for the transaction and queue its switch insertion."""
    mid = numbers.reserve(session, tx.npa_nxx or "", tx)
    if mid is None:
        escalate(session, "no free numbers in NPA-NXX", tx.step, tx=tx, actor="worker")
        return False
    tx.mid, tx.switch_name = mid, switch_name
    plan = tx.rate_plan_code or ""
    activities.enqueue(
        session,
        "switch_insert",
        {"switch_id": switch_id, "subscriber": {"mid": mid, "esn": tx.esn, "features": plan}},
        target=switch_name,
        transaction_id=tx.id,
    )
    return True


def enqueue_billing(session: Session, tx: Transaction) -> None:
    """Queue the billing record of a transaction whose MID is active."""
    record = BillingRecord(
        transaction_code=tx.code,
        mid=tx.mid or "",
        esn=tx.esn or "",
        rate_plan=tx.rate_plan_code or "",
        customer_name=tx.bureau_name or "",
        customer_address=tx.bureau_address or "",
        deposit_cents=tx.deposit_cents or 0,
        deposit_method=tx.deposit_method or "",
    )
    activities.enqueue(
        session, "billing_record", asdict(record), target="billing", transaction_id=tx.id
    )
