"""Tables of the nightly telephone-number comparison: runs, their findings, and the run lock.

A run compares CAS with each of its sides: every switch, and the billing system (the side
named BILLING). A finding belongs to one side; its `switch_*` columns hold that side's values
(a switch's line, or billing's record).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from activation.store.db import Base, UTCDateTime

BILLING = "billing"  # the billing side's name in runs, findings and reports

# What a comparison can find. Discrepancies are what a repair acts on; the others are reported
# for a person to read.
# On a switch:
MISSING_ON_SWITCH = "missing_on_switch"  # CAS has the MID in service, the switch does not
UNKNOWN_TO_CAS = "unknown_to_cas"  # the switch carries a MID CAS does not hold in service
ESN_MISMATCH = "esn_mismatch"
FEATURE_MISMATCH = "feature_mismatch"
STATE_MISMATCH = "state_mismatch"  # active on one side, suspended on the other
DUPLICATE = "duplicate"  # the switch's dump gave the same MID more than once
# In billing (one record per transaction; a disconnected line's final record is expected):
MISSING_IN_BILLING = "missing_in_billing"  # a line in service billing holds no record of
EXTRA_IN_BILLING = "extra_in_billing"  # a live record of a MID no line in CAS holds
OTHER_TRANSACTION = "other_transaction"  # the MID is billed on another transaction's code
BILLING_ESN = "billing_esn"  # the line's own record, with another ESN
BILLING_PLAN = "billing_plan"  # ... another rate plan
BILLING_STATE = "billing_state"  # ... another line state
# On either side:
IN_FLIGHT = "in_flight"  # work on the MID is queued or an order is open: not a discrepancy
UNREADABLE = "unreadable"  # the side could not be read, or not to the end

SWITCH_DISCREPANCIES = (
    MISSING_ON_SWITCH,
    UNKNOWN_TO_CAS,
    ESN_MISMATCH,
    FEATURE_MISMATCH,
    STATE_MISMATCH,
)
BILLING_DISCREPANCIES = (
    MISSING_IN_BILLING,
    EXTRA_IN_BILLING,
    OTHER_TRANSACTION,
    BILLING_ESN,
    BILLING_PLAN,
    BILLING_STATE,
)
DISCREPANCIES = (*SWITCH_DISCREPANCIES, *BILLING_DISCREPANCIES)
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
    # the sides' names in the order compared: switches, then "billing" when it was compared
    switches: Mapped[list] = mapped_column(JSON, default=list)
    # {"HOU1": {"missing_on_switch": 2, "in_flight": 1}, "billing": {...}, ...}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    unreadable: Mapped[dict] = mapped_column(JSON, default=dict)  # side name -> why
    cas_numbers: Mapped[int] = mapped_column(Integer, default=0)  # MIDs compared with switches
    switch_numbers: Mapped[int] = mapped_column(Integer, default=0)  # dump lines read
    billing_lines: Mapped[int] = mapped_column(Integer, default=0)  # lines compared with billing
    billing_records: Mapped[int] = mapped_column(Integer, default=0)  # billing records read
    discrepancies: Mapped[int] = mapped_column(Integer, default=0)
    report_path: Mapped[str] = mapped_column(String(300), default="")  # the CSV on disk
    summary: Mapped[str] = mapped_column(Text, default="")  # the readable summary
    error: Mapped[str | None] = mapped_column(String(300))


class ComparisonFinding(Base):
    """One thing a run found on one side, and what a repair did about it."""

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
    cas_state: Mapped[str | None] = mapped_column(String(12))
    switch_state: Mapped[str | None] = mapped_column(String(12))
    # billing's record: the transaction code it carries
    billed_code: Mapped[str | None] = mapped_column(String(8))
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
    "BILLING",
    "BILLING_DISCREPANCIES",
    "BILLING_ESN",
    "BILLING_PLAN",
    "BILLING_STATE",
    "DISCREPANCIES",
    "DUPLICATE",
    "ESN_MISMATCH",
    "EXTRA_IN_BILLING",
    "FEATURE_MISMATCH",
    "IN_FLIGHT",
    "KINDS",
    "MISSING_IN_BILLING",
    "MISSING_ON_SWITCH",
    "OTHER_TRANSACTION",
    "STATE_MISMATCH",
    "SWITCH_DISCREPANCIES",
    "UNKNOWN_TO_CAS",
    "UNREADABLE",
    "ComparisonFinding",
    "ComparisonLock",
    "ComparisonRun",
]
