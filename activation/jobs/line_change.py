"""An order's work on the network: the change on the line's switch, and billing's record.

Each is one activity of the order. When the last of them is done the line changes in CAS
(`orders.finish_if_done`); a switch that refuses, or work that fails for good, holds the order
for a CSR. A repeated switch attempt asks the switch first and counts what it already holds.

The nightly comparison queues a switch change outside any order (`repair_of_run`) to bring a
switch to the state CAS holds the line in: it is withdrawn unless the line still wants it, and
what the switch refuses goes to a CSR.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from activation.jobs import billing
from activation.lifecycle import orders, states
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.parties.ports import BillingRecord
from activation.parties.switching import definition
from activation.services import Services
from activation.store.models import Activity, Switch, Transaction
from activation.store.orders import Order
from switch_adapters.port import Subscriber, SwitchDenied


def _done(held: Subscriber | None, change: dict[str, Any]) -> bool:
    """Tell whether the switch already holds what the change asks."""
    command = change["command"]
    if command == "delete":
        return held is None
    if held is None:
        return False
    if command == "suspend":
        return getattr(held, "state", "active") == "suspended"
    if command == "restore":
        return getattr(held, "state", "active") == "active"
    return held.esn == change.get("esn", held.esn) and held.features == change.get(
        "features", held.features
    )


# Built once: every activity of an order reads its order twice.
_ORDER = select(Order).where(Order.id == bindparam("order_id"))


def _order(session: Session, activity: Activity) -> Order:
    return session.scalars(_ORDER, {"order_id": activity.order_id}).one()


def _state_wanted(tx: Transaction | None, mid: str) -> str | None:
    """The command that brings the switch to the line's state, or None if nothing should."""
    if tx is None or tx.mid != mid or tx.status not in IN_SERVICE or tx.open_order_id:
        return None
    return "suspend" if tx.status == TxStatus.SUSPENDED else "restore"


def _still_wanted(tx: Transaction | None, change: dict[str, Any]) -> str | None:
    """Why a repair's change is no longer what the line wants, or None if it still is.

    A modify (a CSR's fix of the ESN or plan a comparison found) restates the line as CAS
    holds it; when the line changed meanwhile, its own order restates it instead.
    """
    if change["command"] == "modify":
        if _state_wanted(tx, change["mid"]) is None or tx is None:
            return f"the line no longer wants modify on {change['mid']}"
        if (tx.esn, tx.rate_plan_code or "") != (change.get("esn"), change.get("features")):
            return f"the line on {change['mid']} changed since; its order restates it"
        return None
    if _state_wanted(tx, change["mid"]) != change["command"]:
        return f"the line no longer wants {change['command']} on {change['mid']}"
    return None


class SwitchChange:
    """Modify, suspend, restore or delete the line on its switch."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        change = dict(activity.payload)
        if activity.order_id is None:  # a comparison's repair: only while the line wants it
            tx = session.get(Transaction, activity.transaction_id or 0)
            unwanted = _still_wanted(tx, change)
            if unwanted is not None:
                return unwanted
        switch = session.get_one(Switch, change["switch_id"])
        return definition(switch, services.vault), change

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        if isinstance(work, str):
            return {"outcome": "withdrawn", "why": work}
        defn, change = work
        mid = change["mid"]
        line = services.switches.open(defn)
        try:
            if attempt > 1 and _done(line.query(mid), change):
                return {"outcome": "done", "found": "already held"}
            try:
                if change["command"] == "modify":
                    line.modify(mid, esn=change.get("esn"), features=change.get("features"))
                else:
                    getattr(line, change["command"])(mid)
            except SwitchDenied as denied:
                if _done(line.query(mid), change):
                    return {"outcome": "done", "found": "already held"}
                return {"outcome": "denied", "code": denied.code, "reason": denied.reason}
            return {"outcome": "done"}
        finally:
            line.close()

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        if activity.order_id is None:
            _settle_repair(session, activity, result)
            return
        order = _order(session, activity)
        if result["outcome"] == "denied":
            orders.hold(session, order, f"switch refused: {result['reason']}")
            return
        orders.finish_if_done(session, order, services.settings.number_aging_days)

    def failed(self, session: Session, activity: Activity, error: str) -> None:
        if activity.order_id is None:
            tx = session.get(Transaction, activity.transaction_id or 0)
            reason = f"repair gave up: {error}"
            escalate(session, reason, "comparison", tx=tx, actor="worker", kind="comparison")
            return
        orders.hold(session, _order(session, activity), f"switch gave up: {error}")


def _settle_repair(session: Session, activity: Activity, result: dict[str, Any]) -> None:
    """A comparison's switch change came back: note it, or hand a refusal to a CSR."""
    tx = session.get(Transaction, activity.transaction_id or 0)
    change, outcome = activity.payload, result["outcome"]
    if outcome == "denied":
        reason = f"repair refused: {result.get('reason', '')}"
        escalate(session, reason, "comparison", tx=tx, actor="worker", kind="comparison")
        return
    if tx is not None:
        what = f"{change['command']} of {change['mid']} on {activity.target}"
        note = result["why"] if outcome == "withdrawn" else f"{what} done"
        run = change.get("repair_of_run")
        states.note(session, tx, "worker", f"{note} (comparison run {run})")


class BillingUpdate:
    """Send the line's billing record as the order leaves it (one record per transaction)."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        record = BillingRecord(**activity.payload)
        tx = session.get_one(Transaction, activity.transaction_id)
        order = _order(session, activity)
        if order.status not in ("inProgress", "held") or tx.mid != record.mid:
            return f"order {order.code} is {order.status}; the line holds {tx.mid}"
        return record

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        return billing.send(work, services)

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        if result["outcome"] == "accepted":
            orders.finish_if_done(
                session, _order(session, activity), services.settings.number_aging_days
            )

    def failed(self, session: Session, activity: Activity, error: str) -> None:
        orders.hold(session, _order(session, activity), f"billing gave up: {error}")
