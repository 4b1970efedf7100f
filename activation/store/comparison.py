"""Tables of the nightly telephone-number comparison: runs, their findings, and the run lock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from activation.store.db import Base, UTCDateTime

# What a comparison can find. The first four are discrepancies a repair acts on; the others
# are reported for a person to read.
MISSING_ON_SWITCH = "missing_on_switch"  # CAS has the MID active, the switch does not
UNKNOWN_TO_CAS = "unknown_to_cas"  # the switch carries a MID CAS does not hold active
ESN_MISMATCH = "esn_mismatch"
FEATURE_MISMATCH = "feature_mismatch"
DUPLICATE = "duplicate"  # the switch's dump gave the same MID more than once
IN_FLIGHT = "in_flight"  # a switch insertion is still queued: not a discrepancy
UNREADABLE = "unreadable"  # the switch could not be read, or not to the end

DISCREPANCIES = (MISSING_ON_SWITCH, UNKNOWN_TO_CAS, ESN_MISMATCH, FEATURE_MISMATCH)
KINDS = (*DISCREPANCIES, DUPLICATE, IN_FLIGHT, UNREADABLE)


def _now() -> datetime:
    return datetime.now(UTC)


class ComparisonRun(Base):
    """One comparison of CAS's numbers with its switches, and its summary."""

    __tablename__ = "comparison_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default="running")  # running/done/failed
    started_by: Mapped[str] = mapped_column(String(80), default="")
    repair: Mapped[bool] = mapped_column(Boolean, default=False)
    switches: Mapped[list] = mapped_column(JSON, default=list)  # names, in the order compared
    # {"HOU1": {"missing_on_switch": 2, "in_flight": 1}, ...}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    unreadable: Mapped[dict] = mapped_column(JSON, default=dict)  # switch name -> why
    cas_numbers: Mapped[int] = mapped_column(Integer, default=0)  # active MIDs streamed
    switch_numbers: Mapped[int] = mapped_column(Integer, default=0)  # dump lines read
    discrepancies: Mapped[int] = mapped_column(Integer, default=0)
    report_path: Mapped[str] = mapped_column(String(300), default="")  # the CSV on disk
    summary: Mapped[str] = mapped_column(Text, default="")  # the readable summary
    error: Mapped[str | None] = mapped_column(String(300))


class ComparisonFinding(Base):
    """One thing a run found on one switch, and what a repair did about it."""

    __tablename__ = "comparison_findings"
    __table_args__ = (Index("ix_comparison_findings_run", "run_id", "switch_name", "mid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("comparison_runs.id"))
    switch_name: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    mid: Mapped[str] = mapped_column(String(16), default="")
    cas_esn: Mapped[str | None] = mapped_column(String(18))
    switch_esn: Mapped[str | None] = mapped_column(String(18))
    cas_features: Mapped[str | None] = mapped_column(String(80))
    switch_features: Mapped[str | None] = mapped_column(String(80))
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    repair: Mapped[str] = mapped_column(String(10), default="")  # "", queued, flagged
    repair_ref: Mapped[str] = mapped_column(String(40), default="")  # "activity 12", ...
    detail: Mapped[str] = mapped_column(String(200), default="")


class ComparisonLock(Base):
    """The one row that says a comparison is running, until when, and where."""

    __tablename__ = "comparison_lock"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    run_id: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = [
    "DISCREPANCIES",
    "DUPLICATE",
    "ESN_MISMATCH",
    "FEATURE_MISMATCH",
    "IN_FLIGHT",
    "KINDS",
    "MISSING_ON_SWITCH",
    "UNKNOWN_TO_CAS",
    "UNREADABLE",
    "ComparisonFinding",
    "ComparisonLock",
    "ComparisonRun",
]
