"""Switch work: put a MID on its switch, or take it off; never twice, whatever the retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from activation.followup import callbacks
from activation.inventory import sales
from activation.lifecycle import assignment, numbers, states
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import Move, TxStatus
from activation.parties.switching import definition
from activation.services import Services
from activation.store import audit
from activation.store.models import Activity, Switch, Transaction, utcnow
from switch_adapters.port import Subscriber, SwitchDenied


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
        tx = states.lock(session, activity.transaction_id or 0)
        mid = activity.payload["subscriber"]["mid"]
        outcome = result["outcome"]
        if "repair_of_run" in activity.payload:
            _apply_repair(session, activity, tx, mid, result)
        elif tx.mid != mid or tx.status not in (TxStatus.ASSIGNING, TxStatus.DELAYED):
            _stray(session, activity, tx, mid, outcome)
        elif outcome == "inserted":
            numbers.set_number(session, mid, "active", tx.id)
            tx.completed_at = utcnow()
            states.move(session, tx, Move.INSERTED, "worker", f"MID {mid} on {activity.target}")
            if tx.esn:
                sales.sell(session, tx, tx.esn, "worker", f"activated MID {mid}")
            assignment.queue_billing(session, tx)
            assignment.queue_e911(session, tx)
            if tx.callback_requested:
                callbacks.request(session, tx)
        elif outcome == "taken":
            assignment.replace_taken(session, tx, activity.payload["switch_id"], activity.target)
        else:
            reason = f"switch denied: {result['reason']}"
            assignment.give_back(session, tx)
            states.move(session, tx, Move.SWITCH_REFUSED, "worker", reason)
            escalate(session, reason, tx.step, tx=tx, actor="worker", kind="switch")


def _stray(session: Session, activity: Activity, tx: Transaction, mid: str, outcome: str) -> None:
    """The answer for a MID its transaction no longer waits for (a CSR took the work back)."""
    if outcome != "inserted":
        states.note(session, tx, "worker", f"switch answer for given-up MID {mid}: {outcome}")
        return
    # On the switch but nobody's: out of stock until a CSR settles it.
    numbers.set_number(session, mid, "blocked", None)
    reason = f"{activity.target} took MID {mid} no longer wanted"
    escalate(session, reason, tx.step, tx=tx, actor="worker", kind="switch")


def _apply_repair(
    session: Session, activity: Activity, tx: Transaction, mid: str, result: dict[str, Any]
) -> None:
    """Settle a re-insertion the comparison asked for: the customer keeps the number whatever
    the switch says; only a CSR may take it away."""
    run = activity.payload["repair_of_run"]
    if result["outcome"] == "inserted":
        numbers.set_number(session, mid, "active", tx.id)
        states.note(
            session, tx, "worker", f"MID {mid} put back on {activity.target} (comparison run {run})"
        )
        return
    why = "held for another handset" if result["outcome"] == "taken" else result.get("reason", "")
    reason = f"repair refused: {why}"
    escalate(session, reason, tx.step, tx=tx, actor="worker", kind="comparison")


def _holder(held: Subscriber, wanted: Subscriber) -> dict[str, Any]:
    if held.esn == wanted.esn:
        return {"outcome": "inserted"}
    return {"outcome": "taken"}


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
        if activity.payload.get("rogue"):
            # A line CAS never held in service, taken off at a CSR's word: CAS's record of
            # the number (free, ageing, blocked) is already right.
            detail = f"MID {mid} off {activity.target}: {result['outcome']} (unknown to CAS)"
            audit.record(session, "number", mid, None, "off_switch", "worker", detail)
            return
        numbers.set_number(session, mid, "free", None)
        tx = session.get(Transaction, activity.transaction_id)
        if tx is not None and tx.mid == mid:
            tx.mid = None
        detail = f"MID {mid} off {activity.target}: {result['outcome']}"
        audit.record(session, "number", mid, "blocked", "free", "worker", detail)
