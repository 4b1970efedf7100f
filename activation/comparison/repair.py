"""Turn a switch's findings into work: re-insert what it lacks, restate what it holds in another
state, flag the rest for a CSR.

A MID CAS holds in service and the switch lacks gets a switch_insert activity like the one the
activation queued, for the same MID, ESN and rate plan (never a new number). A line the switch
holds active while CAS holds it suspended (or the other way round) gets the switch_change that
suspends (or restores) it, outside any order: CAS's state is the one its orders left. What only
the switch holds, or holds with another handset or plan, needs a person: it is escalated to a
CSR, with the transaction when there is one. Every finding records what was done about it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.queue import activities
from activation.store import audit
from activation.store.comparison import (
    ESN_MISMATCH,
    FEATURE_MISMATCH,
    MISSING_ON_SWITCH,
    STATE_MISMATCH,
    SWITCH_DISCREPANCIES,
    UNKNOWN_TO_CAS,
    ComparisonFinding,
)
from activation.store.db import Database
from activation.store.models import REASON_LENGTH, Activity, Escalation, Transaction

BATCH = 500
STEP = "comparison"
ACTOR = "comparison"


def repair_switch(
    db: Database,
    run_id: int,
    switch_id: int,
    switch_name: str,
    between_batches: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Act on every unrepaired discrepancy of one switch in a run; count what was done."""
    done: Counter[str] = Counter()
    after = 0
    while True:
        with db.transaction() as session:
            batch = list(
                session.scalars(
                    select(ComparisonFinding)
                    .where(
                        ComparisonFinding.run_id == run_id,
                        ComparisonFinding.switch_name == switch_name,
                        ComparisonFinding.kind.in_(SWITCH_DISCREPANCIES),
                        ComparisonFinding.repair == "",
                        ComparisonFinding.id > after,
                    )
                    .order_by(ComparisonFinding.id)
                    .limit(BATCH)
                )
            )
            if not batch:
                break
            for finding in batch:
                done[repair(session, finding, switch_id)] += 1
            after = batch[-1].id
        if between_batches is not None:
            between_batches()
    if done:
        with db.transaction() as session:
            audit.record(
                session,
                "comparison",
                str(run_id),
                None,
                "repaired",
                ACTOR,
                f"{switch_name}: {done['queued']} repairs queued, {done['flagged']} flagged",
            )
    return dict(done)


def repair(session: Session, finding: ComparisonFinding, switch_id: int) -> str:
    """Queue or flag one finding; return "queued" or "flagged"."""
    tx = session.get(Transaction, finding.transaction_id) if finding.transaction_id else None
    if finding.kind == MISSING_ON_SWITCH and tx is not None and tx.mid == finding.mid:
        activity = _queued_insert(session, tx) or activities.enqueue(
            session,
            "switch_insert",
            {
                "switch_id": switch_id,
                "subscriber": {"mid": tx.mid, "esn": tx.esn, "features": tx.rate_plan_code or ""},
                "repair_of_run": finding.run_id,
            },
            target=finding.switch_name,
            transaction_id=tx.id,
        )
        finding.repair, finding.repair_ref = "queued", f"activity {activity.id}"
        return "queued"
    if finding.kind == STATE_MISMATCH and holds(tx, finding.mid):
        assert tx is not None
        command = "suspend" if tx.status == TxStatus.SUSPENDED else "restore"
        activity = _queued_change(session, tx, command) or activities.enqueue(
            session,
            "switch_change",
            {
                "switch_id": switch_id,
                "mid": tx.mid,
                "command": command,
                "repair_of_run": finding.run_id,
            },
            target=finding.switch_name,
            transaction_id=tx.id,
        )
        finding.repair, finding.repair_ref = "queued", f"activity {activity.id}"
        return "queued"
    escalation = flag(session, _reason(finding, tx), tx)
    finding.repair, finding.repair_ref = "flagged", f"escalation {escalation}"
    return "flagged"


def _reason(finding: ComparisonFinding, tx: Transaction | None) -> str:
    where, mid = finding.switch_name, finding.mid
    if finding.kind == UNKNOWN_TO_CAS:
        return f"{where} carries {mid}, unknown to CAS"
    if finding.kind == ESN_MISMATCH:
        return f"{where} has another ESN on {mid}"
    if finding.kind == FEATURE_MISMATCH:
        return f"{where} has other features on {mid}"
    if tx is None:
        return f"{mid} active in CAS without its transaction"
    if finding.kind == STATE_MISMATCH:
        return f"{where} holds {mid} {finding.switch_state}; the line is {tx.status}"
    return f"{mid} missing on {where}"


def holds(tx: Transaction | None, mid: str) -> bool:
    """Tell whether the transaction is the line in service on the MID."""
    return tx is not None and tx.mid == mid and tx.status in IN_SERVICE


def _queued_insert(session: Session, tx: Transaction) -> Activity | None:
    return queued(session, tx, "switch_insert")


def _queued_change(session: Session, tx: Transaction, command: str) -> Activity | None:
    """A repair's switch change of the line to that state not yet carried out."""
    pending = session.scalars(
        select(Activity).where(
            Activity.transaction_id == tx.id,
            Activity.type == "switch_change",
            Activity.order_id.is_(None),
            Activity.state.in_(("pending", "running")),
        )
    )
    return next((a for a in pending if a.payload.get("command") == command), None)


def queued(session: Session, tx: Transaction, type_: str) -> Activity | None:
    """The transaction's activity of that type not yet carried out, if there is one."""
    return session.scalar(
        select(Activity)
        .where(
            Activity.transaction_id == tx.id,
            Activity.type == type_,
            Activity.state.in_(("pending", "running")),
        )
        .limit(1)
    )


def flag(session: Session, reason: str, tx: Transaction | None) -> int:
    """Escalate to a CSR once per reason (and transaction); return the escalation's id."""
    reason = reason[:REASON_LENGTH]  # as escalate keeps it, to find it again
    owner = Escalation.transaction_id == tx.id if tx else Escalation.transaction_id.is_(None)
    query = (
        select(Escalation.id)
        .where(Escalation.reason == reason, Escalation.state == "open", owner)
        .order_by(Escalation.id)
        .limit(1)
    )
    found = session.scalar(query)
    if found is None:
        escalate(session, reason, STEP, tx=tx, actor=ACTOR, kind="comparison")
        session.flush()
        found = session.scalar(query)
    assert found is not None
    return found


__all__ = ["BATCH", "flag", "holds", "queued", "repair", "repair_switch"]
