"""Turn the billing side's findings into work: re-send the line's record, settle stale ones.

A line in service that billing lacks, holds with other values, or bills on another
transaction's number gets its record sent again as it stands (a billing_record activity, the
one an activation queues; billing keeps one record per transaction, so a re-send replaces).
A live record of a transaction that no longer holds the MID is settled by what became of that
transaction: one that holds another MID now has its record re-sent (it moves there), a
disconnected line's gets its final record, any other's is deleted. A record whose transaction
CAS does not know is a CSR's to settle: a machine cannot tell whose line billing charges.
Every finding records what was done about it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.comparison.repair import ACTOR, BATCH, flag, holds, queued
from activation.lifecycle.assignment import billing_record
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.queue import activities
from activation.store import audit
from activation.store.comparison import (
    BILLING,
    BILLING_DISCREPANCIES,
    EXTRA_IN_BILLING,
    OTHER_TRANSACTION,
    ComparisonFinding,
)
from activation.store.db import Database
from activation.store.models import Activity, Transaction


def repair_billing(
    db: Database, run_id: int, between_batches: Callable[[], None] | None = None
) -> dict[str, int]:
    """Act on every unrepaired billing discrepancy of a run; count what was done."""
    done: Counter[str] = Counter()
    after = 0
    while True:
        with db.transaction() as session:
            batch = list(
                session.scalars(
                    select(ComparisonFinding)
                    .where(
                        ComparisonFinding.run_id == run_id,
                        ComparisonFinding.switch_name == BILLING,
                        ComparisonFinding.kind.in_(BILLING_DISCREPANCIES),
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
                done[repair(session, finding)] += 1
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
                f"{BILLING}: {done['queued']} repairs queued, {done['flagged']} flagged",
            )
    return dict(done)


def repair(session: Session, finding: ComparisonFinding) -> str:
    """Queue or flag what one finding calls for; return "queued" or "flagged"."""
    refs: list[str] = []
    flagged = False
    if finding.kind != EXTRA_IN_BILLING:  # the MID is a line's: send its record as it stands
        tx = session.get(Transaction, finding.transaction_id) if finding.transaction_id else None
        if holds(tx, finding.mid):
            assert tx is not None
            refs.append(f"activity {_resend(session, tx, finding.run_id).id}")
        else:
            reason = f"{finding.mid} in service in CAS without its transaction"
            refs.append(f"escalation {flag(session, reason, tx)}")
            flagged = True
    if finding.kind in (EXTRA_IN_BILLING, OTHER_TRANSACTION) and finding.billed_code:
        ref, escalated = _settle(session, finding.billed_code, finding.mid, finding.run_id)
        refs.append(ref)
        flagged = flagged or escalated
    finding.repair = "flagged" if flagged else "queued"
    finding.repair_ref = "; ".join(refs)[:40]
    return finding.repair


def _resend(session: Session, tx: Transaction, run_id: int) -> Activity:
    """Queue the line's record, sent as it stands when the worker sends it (once)."""
    return queued(session, tx, "billing_record") or activities.enqueue(
        session,
        "billing_record",
        {**asdict(billing_record(tx)), "repair_of_run": run_id},
        target=BILLING,
        transaction_id=tx.id,
    )


def _settle(session: Session, code: str, mid: str, run_id: int) -> tuple[str, bool]:
    """Settle a live record of transaction `code` on a MID it does not hold in service.

    Return what was done ("activity N" or "escalation N") and whether it went to a CSR.
    """
    tx = session.scalar(select(Transaction).where(Transaction.code == code))
    if tx is None:
        reason = f"billing bills {mid} on transaction {code}, unknown to CAS"
        return f"escalation {flag(session, reason, None)}", True
    if tx.status in IN_SERVICE and tx.mid:
        return f"activity {_resend(session, tx, run_id).id}", False  # moves to its own MID
    if tx.mid == mid:  # it still holds the number, not yet (or no longer) in service
        reason = f"billing bills {mid} on transaction {code}, {tx.status} in CAS"
        return f"escalation {flag(session, reason, tx)}", True
    if tx.status == TxStatus.DISCONNECTED and tx.former_mid == mid:
        final = replace(billing_record(tx), mid=mid, line_state="disconnected")
        activity = queued(session, tx, "billing_record") or activities.enqueue(
            session,
            "billing_record",
            {**asdict(final), "repair_of_run": run_id},
            target=BILLING,
            transaction_id=tx.id,
        )
        return f"activity {activity.id}", False
    activity = queued(session, tx, "billing_delete") or activities.enqueue(
        session,
        "billing_delete",
        {"transaction_code": code, "repair_of_run": run_id},
        target=BILLING,
        transaction_id=tx.id,
    )
    return f"activity {activity.id}", False


__all__ = ["repair", "repair_billing"]
