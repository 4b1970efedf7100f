"""What the comparison of every side shares: its result, and the settling of its findings.

A side is a switch or billing. Once its merge is over, a side that broke off has its
'missing' findings withheld (what it never sent proves nothing), and work queued while it was
read turns the discrepancies it explains into MIDs in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from activation.store.comparison import DISCREPANCIES, IN_FLIGHT, ComparisonFinding
from activation.store.db import Database


@dataclass
class SideResult:
    """What the comparison of one side (a switch, or billing) came to."""

    name: str
    cas_numbers: int = 0  # CAS's MIDs (lines, for billing) compared
    switch_lines: int = 0  # the side's lines (billing's records) read
    last_mid: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    unreadable: str | None = None
    seconds: float = 0.0
    repairs: dict[str, int] = field(default_factory=dict)


def withhold_missing(db: Database, run_id: int, side: str, kind: str) -> int:
    """Drop a broken side's findings of `kind` (its 'missing'); return how many."""
    with db.transaction() as session:
        gone = session.execute(
            delete(ComparisonFinding).where(
                ComparisonFinding.run_id == run_id,
                ComparisonFinding.switch_name == side,
                ComparisonFinding.kind == kind,
            )
        )
        return int(gone.rowcount)  # type: ignore[attr-defined]


# (MID, billed code, transaction id) of a finding -> what was queued during the run, or None
Late = Callable[[str, str | None, int | None], str | None]


def settle_late(db: Database, run_id: int, side: str, late: Late) -> None:
    """Make discrepancies that work queued during the merge explains in-flight findings.

    A change that went through while the side was being read shows on one side only, depending
    on which was read first: that is a MID in flight, not a discrepancy. One in-flight finding
    per MID is enough, whatever else differed.
    """
    with db.transaction() as session:
        rows = session.execute(
            select(
                ComparisonFinding.id,
                ComparisonFinding.mid,
                ComparisonFinding.billed_code,
                ComparisonFinding.transaction_id,
            )
            .where(
                ComparisonFinding.run_id == run_id,
                ComparisonFinding.switch_name == side,
                ComparisonFinding.kind.in_(DISCREPANCIES),
            )
            .order_by(ComparisonFinding.id)
        ).all()
        settled: set[str] = set()
        for finding_id, mid, billed_code, transaction_id in rows:
            what = late(mid, billed_code, transaction_id)
            if what is None:
                continue
            if mid in settled:
                session.execute(delete(ComparisonFinding).where(ComparisonFinding.id == finding_id))
                continue
            settled.add(mid)
            session.execute(
                update(ComparisonFinding)
                .where(ComparisonFinding.id == finding_id)
                .values(kind=IN_FLIGHT, detail=f"{what} queued during the run"[:200])
            )


def counts_of(db: Database, run_id: int, side: str) -> dict[str, int]:
    """Count one side's findings in a run by kind."""
    with db.read() as session:
        rows = session.execute(
            select(ComparisonFinding.kind, func.count())
            .where(ComparisonFinding.run_id == run_id, ComparisonFinding.switch_name == side)
            .group_by(ComparisonFinding.kind)
        )
        return {kind: int(n) for kind, n in rows}


__all__ = ["Late", "SideResult", "counts_of", "settle_late", "withhold_missing"]
