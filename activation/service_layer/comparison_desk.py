"""A CSR acting on what the nightly comparison could not repair by itself.

Each escalation the comparison raised points at its finding (the finding's repair_ref names
it): CAS's values beside the switch's, and the actions that fit that finding, each offered
only while it can work and carried out through the activity queue as any switch work is:
- a number the switch carries and CAS does not hold in service: take it off the switch;
- a line CAS holds in service and the switch lacks: insert it again, as the activation did;
- a line the switch holds with another ESN or features: state CAS's ESN and plan on it;
- a line the switch holds active while CAS holds it suspended, or the other way round: put
  CAS's state on the switch (the suspend or restore the comparison's own repair queues);
- a line billing lacks, holds with other values or bills on another transaction's number:
  send billing the line's record again, as it stands;
- a live billing record of a transaction CAS does not know: take the record off billing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from activation.comparison.repair import holds, queued
from activation.lifecycle import states
from activation.lifecycle.assignment import billing_record
from activation.lifecycle.states import TxStatus
from activation.queue import activities
from activation.service_layer.csr import NotFound, Refused, close_open_escalation
from activation.services import Services
from activation.store.comparison import (
    BILLING,
    BILLING_DISCREPANCIES,
    ESN_MISMATCH,
    EXTRA_IN_BILLING,
    FEATURE_MISMATCH,
    MISSING_ON_SWITCH,
    STATE_MISMATCH,
    UNKNOWN_TO_CAS,
    ComparisonFinding,
)
from activation.store.models import Activity, Escalation, Switch, Transaction

# The action that fits each kind of finding, and how the console names it.
ACTIONS = {
    UNKNOWN_TO_CAS: ("take_off", "Take the number off the switch"),
    MISSING_ON_SWITCH: ("reinsert", "Insert the line on the switch again"),
    ESN_MISMATCH: ("fix_line", "Put CAS's ESN and plan on the switch"),
    FEATURE_MISMATCH: ("fix_line", "Put CAS's ESN and plan on the switch"),
    STATE_MISMATCH: ("restate", "Put the line's state on the switch"),
}
RESEND = ("resend", "Send billing the line's record again")
TAKE_OFF_BILLING = ("take_off_billing", "Take the record off billing")
# Actions on the line CAS holds in service on the finding's MID.
ON_THE_LINE = ("reinsert", "fix_line", "restate", "resend")


@dataclass(frozen=True)
class Offer:
    """An action on a finding, or why it cannot be taken now."""

    action: str
    label: str
    blocked: str = ""  # empty: it can be taken now


def finding_of(session: Session, esc: Escalation) -> ComparisonFinding | None:
    """The comparison's finding an escalation was raised for (its latest run's)."""
    if esc.kind != "comparison":
        return None
    # A billing finding may have queued work and escalated too: "activity 5; escalation 7".
    ref = f"escalation {esc.id}"
    return session.scalar(
        select(ComparisonFinding)
        .where(
            or_(
                ComparisonFinding.repair_ref == ref,
                ComparisonFinding.repair_ref.startswith(f"{ref};"),
                ComparisonFinding.repair_ref.endswith(f"; {ref}"),
            )
        )
        .order_by(ComparisonFinding.id.desc())
        .limit(1)
    )


def offer(session: Session, esc: Escalation, finding: ComparisonFinding) -> Offer | None:
    """The action that fits a finding, with why it cannot be taken now, if so."""
    fits = _billing_fit(esc, finding) if finding.kind in BILLING_DISCREPANCIES else None
    fits = fits or ACTIONS.get(finding.kind)
    if fits is None:
        return None
    action, label = fits
    tx = _line_of(session, finding)
    blocked = ""
    if esc.state != "open":
        blocked = f"the escalation is {esc.state}"
    elif action == "take_off" and tx is not None:
        blocked = f"CAS holds {finding.mid} in service now (transaction {tx.code})"
    elif action in ON_THE_LINE and tx is None:
        blocked = f"CAS holds no line in service on {finding.mid}"
    elif action in ON_THE_LINE and tx is not None and tx.open_order_id:
        blocked = "an order on the line is under way; it restates the line itself"
    elif action == "resend" and tx is not None and queued(session, tx, "billing_record"):
        blocked = "a billing record of this line is already on the queue"
    elif action == "take_off_billing":
        blocked = _record_blocked(session, finding)
    elif action not in ("resend", "take_off_billing") and _pending(session, finding):
        blocked = "switch work on this number is already on the queue"
    return Offer(action, label, blocked)


def _billing_fit(esc: Escalation, finding: ComparisonFinding) -> tuple[str, str]:
    """Which part of a billing finding the escalation stands for: the line's own record (the
    repair's first reference) or the record billed on another transaction (its last)."""
    refs = finding.repair_ref.split("; ")
    if finding.kind != EXTRA_IN_BILLING and refs[0] == f"escalation {esc.id}":
        return RESEND
    return TAKE_OFF_BILLING


def _record_blocked(session: Session, finding: ComparisonFinding) -> str:
    """Why the record billed on finding.billed_code may not be taken off billing now."""
    code = finding.billed_code
    if not code:
        return "billing named no transaction for the record"
    tx = session.scalar(select(Transaction).where(Transaction.code == code))
    if tx is not None:
        return f"transaction {code} is {tx.status} in CAS; settle it there first"
    rows = session.scalars(
        select(Activity.payload).where(
            Activity.type == "billing_delete", Activity.state.in_(("pending", "running"))
        )
    )
    if any(payload.get("transaction_code") == code for payload in rows):
        return "the record's removal is already on the queue"
    return ""


def act(services: Services, esc_id: int, action: str, actor: str) -> str:
    """Queue the switch or billing work that fits the escalation's finding, and settle the
    escalation."""
    with services.db.transaction() as session:
        esc = session.get(Escalation, esc_id, with_for_update=True)
        if esc is None:
            raise NotFound(f"No escalation {esc_id}.")
        if esc.transaction_id is not None:
            states.lock(session, esc.transaction_id)
        finding = finding_of(session, esc)
        if finding is None:
            raise Refused(f"escalation {esc_id} has no comparison finding to act on")
        fit = offer(session, esc, finding)
        if fit is None or fit.action != action:
            raise Refused(f"that action does not fit a finding of kind {finding.kind}")
        if fit.blocked:
            raise Refused(f"not now: {fit.blocked}")
        tx = _line_of(session, finding)
        if finding.switch_name == BILLING:
            activity = _queue_billing(session, action, finding, tx)
        else:
            switch = session.scalar(select(Switch).where(Switch.name == finding.switch_name))
            if switch is None:
                raise Refused(f"no switch {finding.switch_name} any more")
            activity = _queue(session, action, finding, switch, tx)
        # The finding keeps pointing at its escalation; the escalation's closing says what
        # was queued.
        done = f"{fit.label.lower()}: activity {activity.id} queued"
        close_open_escalation(session, esc, "resolved", actor, done)
    return f"{fit.label}: queued as activity {activity.id}."


def _queue(
    session: Session,
    action: str,
    finding: ComparisonFinding,
    switch: Switch,
    tx: Transaction | None,
) -> Activity:
    if action == "take_off":
        # Not CAS's number in service: the switch's line goes; CAS's number record stays
        # as it is (free, ageing or blocked), so the delete must not free it.
        payload = {"switch_id": switch.id, "mid": finding.mid, "rogue": True}
        return activities.enqueue(session, "switch_delete", payload, target=switch.name)
    assert tx is not None
    if action == "reinsert":
        subscriber = {"mid": tx.mid, "esn": tx.esn, "features": tx.rate_plan_code or ""}
        return activities.enqueue(
            session,
            "switch_insert",
            {"switch_id": switch.id, "subscriber": subscriber, "repair_of_run": finding.run_id},
            target=switch.name,
            transaction_id=tx.id,
        )
    if action == "restate":
        # CAS's state is the one its orders left: the switch is told it, as the comparison's
        # own repair does.
        command = "suspend" if tx.status == TxStatus.SUSPENDED else "restore"
        restate = {
            "switch_id": switch.id,
            "mid": tx.mid,
            "command": command,
            "repair_of_run": finding.run_id,
        }
        return activities.enqueue(
            session, "switch_change", restate, target=switch.name, transaction_id=tx.id
        )
    change = {
        "switch_id": switch.id,
        "mid": tx.mid,
        "command": "modify",
        "esn": tx.esn,
        "features": tx.rate_plan_code or "",
        "repair_of_run": finding.run_id,
    }
    return activities.enqueue(
        session, "switch_change", change, target=switch.name, transaction_id=tx.id
    )


def _queue_billing(
    session: Session, action: str, finding: ComparisonFinding, tx: Transaction | None
) -> Activity:
    if action == "resend":
        assert tx is not None
        # Billing keeps one record per transaction: the line's record, sent as it stands,
        # replaces what billing holds.
        record = {**asdict(billing_record(tx)), "repair_of_run": finding.run_id}
        return activities.enqueue(
            session, "billing_record", record, target=BILLING, transaction_id=tx.id
        )
    withdraw = {"transaction_code": finding.billed_code, "repair_of_run": finding.run_id}
    return activities.enqueue(session, "billing_delete", withdraw, target=BILLING)


def _line_of(session: Session, finding: ComparisonFinding) -> Transaction | None:
    """The transaction in service on the finding's MID, if CAS holds one now."""
    tx = session.scalar(select(Transaction).where(Transaction.mid == finding.mid).limit(1))
    return tx if holds(tx, finding.mid) else None


def _pending(session: Session, finding: ComparisonFinding) -> bool:
    tx = _line_of(session, finding)
    if tx is not None:
        return any(
            queued(session, tx, kind) is not None
            for kind in ("switch_insert", "switch_change", "switch_delete")
        )
    rows = session.scalars(
        select(Activity.payload).where(
            Activity.type == "switch_delete",
            Activity.target == finding.switch_name,
            Activity.state.in_(("pending", "running")),
        )
    )
    return any(payload.get("mid") == finding.mid for payload in rows)
