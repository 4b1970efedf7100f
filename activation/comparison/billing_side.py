"""The billing side of the comparison: CAS's lines in service against billing's records.

Rules, as for a switch but with billing's own shape:

- CAS's lines in service (active and suspended, comparison.cas_side) and billing's records
  (`every_record`, page by page) both come ordered by MID and are read once, in step; neither
  is held whole. Billing keeps one record per transaction, so a MID may have several: the
  line's own (its transaction's code), those of earlier holders, strays.
- A record is live when its line_state is active or suspended; a disconnected line's final
  record stays in billing, as it should, and is never a finding by itself.
- A line with no record of its own and none live of anyone's is missing in billing; a live
  record of another transaction on a line's MID bills it on another transaction's number; a
  live record of a MID no line holds is extra. The line's own record is checked for ESN, rate
  plan and line state.
- A MID with billing work queued or running (a record, an order's update, a withdrawal), or
  queued while the run was under way, or whose line has an order open, is in flight: reported,
  never a discrepancy.
- Billing that cannot be reached or whose listing breaks or comes out of order is unreadable:
  named in the report, and nothing it did not show is reported missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.comparison.cas_side import Line, count_in_service, lines_in_service, reader
from activation.comparison.findings import Findings
from activation.comparison.in_flight import UnderWay, billing_work, last_activity_id
from activation.comparison.lock import RunLock
from activation.comparison.merge import DumpFailed, Tally, guarded
from activation.comparison.progress import Progress
from activation.comparison.side import SideResult, counts_of, settle_late, withhold_missing
from activation.parties.ports import BillingRecord, every_record
from activation.services import Services
from activation.store.comparison import (
    BILLING,
    BILLING_ESN,
    BILLING_PLAN,
    BILLING_STATE,
    EXTRA_IN_BILLING,
    IN_FLIGHT,
    MISSING_IN_BILLING,
    OTHER_TRANSACTION,
    UNREADABLE,
)
from activation.store.db import Database
from activation.store.models import Transaction
from switch_adapters.port import ACTIVE, SUSPENDED, Record

LIVE = (ACTIVE, SUSPENDED)
PAGE = 1000  # billing records asked for at a time
TICK = 8192  # lines and records taken between two progress reports


def _record(record: BillingRecord) -> Record:
    return (record.mid, record.esn, record.rate_plan, record.line_state)


def _line(line: Line) -> Record:
    return (line[0], line[2], line[3], line[4])


class BillingFindings(Findings):
    """The billing side's findings, written in batches like a switch's."""

    def __init__(self, db: Database, run_id: int, under: UnderWay) -> None:
        super().__init__(db, run_id, BILLING, under.mids)
        self.under = under

    def check(self, line: Line | None, held: list[BillingRecord]) -> None:
        """Compare one MID: CAS's line of it (if any) with billing's records of it (if any)."""
        mid = line[0] if line is not None else held[0].mid
        codes = [r.transaction_code for r in held] + ([line[1]] if line is not None else [])
        own = next((r for r in held if line is not None and r.transaction_code == line[1]), None)
        live = [r for r in held if r.line_state in LIVE and r is not own]
        ours = _line(line) if line is not None else None
        tx_id = line[5] if line is not None else None
        under_way = self.under.of(mid, *codes)
        if under_way is not None:
            if ours is not None or live or own is not None:
                self.in_flight_seen.add(mid)
                shown = own or (live[0] if live else None)
                sub = _record(shown) if shown is not None else None
                code = shown.transaction_code if shown is not None else None
                self.add(
                    IN_FLIGHT, mid, ours, sub, under_way, transaction_id=tx_id, billed_code=code
                )
            return
        if ours is None:
            for record in live:
                code = record.transaction_code
                self.add(EXTRA_IN_BILLING, mid, None, _record(record), billed_code=code)
            return
        for record in live:
            code = record.transaction_code
            sub = _record(record)
            self.add(OTHER_TRANSACTION, mid, ours, sub, transaction_id=tx_id, billed_code=code)
        if own is None:
            if not live:
                self.add(MISSING_IN_BILLING, mid, ours, None, transaction_id=tx_id)
            return
        sub = _record(own)
        code = own.transaction_code
        for kind, field in ((BILLING_ESN, 1), (BILLING_PLAN, 2), (BILLING_STATE, 3)):
            if ours[field] != sub[field]:
                self.add(kind, mid, ours, sub, transaction_id=tx_id, billed_code=code)

    def _explain(self, session: Session) -> None:
        """Tell whose records billing holds on MIDs it bills on another transaction or extra."""
        codes = sorted(
            {
                f["billed_code"]
                for f in self.pending
                if f["kind"] in (EXTRA_IN_BILLING, OTHER_TRANSACTION) and f["billed_code"]
            }
        )
        known = {
            code: (tx_id, status, mid)
            for code, tx_id, status, mid in session.execute(
                select(Transaction.code, Transaction.id, Transaction.status, Transaction.mid).where(
                    Transaction.code.in_(codes)
                )
            )
        }
        for finding in self.pending:
            if finding["kind"] not in (EXTRA_IN_BILLING, OTHER_TRANSACTION):
                continue
            code = finding["billed_code"]
            if code not in known:
                finding["detail"] = f"billed on transaction {code}, unknown to CAS"
                continue
            tx_id, status, holds = known[code]
            where = f", now on {holds}" if holds and holds != finding["mid"] else ""
            finding["detail"] = f"billed on transaction {code} ({status} in CAS{where})"
            if finding["transaction_id"] is None:
                finding["transaction_id"] = tx_id


def merge_billing(
    lines: Iterable[list[Line]],
    records: Iterable[BillingRecord],
    out: BillingFindings,
    tally: Tally,
    tick: Callable[[int], None] | None = None,
) -> None:
    """Merge CAS's lines in service with billing's records by MID, recording every finding."""
    cas = chain.from_iterable(lines)
    groups = _by_mid(records, tally)
    line, held = next(cas, None), next(groups, None)
    next_tick = TICK
    while line is not None or held is not None:
        if held is None or (line is not None and line[0] < held[0].mid):
            out.check(line, [])
            line = next(cas, None)
            tally.cas += 1
        elif line is None or held[0].mid < line[0]:
            out.check(None, held)
            held = next(groups, None)
        else:
            out.check(line, held)
            line, held = next(cas, None), next(groups, None)
            tally.cas += 1
        if tick is not None and tally.cas + tally.lines >= next_tick:
            next_tick = tally.cas + tally.lines + TICK
            tick(tally.cas)


def _by_mid(records: Iterable[BillingRecord], tally: Tally) -> Iterator[list[BillingRecord]]:
    """Billing's records a MID at a time; a MID is handed over once its last record is read."""
    group: list[BillingRecord] = []
    for record in records:
        tally.lines += 1
        if group and record.mid != group[0].mid:
            if record.mid < group[0].mid:
                raise DumpFailed(f"billing out of MID order: {record.mid} after {group[0].mid}")
            yield group
            group = []
        group.append(record)
        tally.last_mid = record.mid
    if group:
        yield group


def compare_billing(
    services: Services, run_id: int, progress: Progress, lock: RunLock
) -> SideResult:
    """Merge billing's records with CAS's lines in service and record the findings of the run."""
    db = services.db
    result = SideResult(BILLING)
    began = time.monotonic()
    expected = count_in_service(db)
    progress.event("billing_started", run=run_id, side=BILLING, expected=expected)
    # Work under way now is in flight; work queued later is found after the merge.
    before = last_activity_id(db)
    out = BillingFindings(db, run_id, billing_work(db))
    tally = Tally()

    def tick(done: int) -> None:
        progress.advanced(BILLING, done, expected)
        lock.renew()

    try:
        with reader(db) as conn:
            records = guarded(every_record(services.billing, PAGE))
            merge_billing(lines_in_service(conn), records, out, tally, tick)
    except DumpFailed as exc:
        where = f", last MID {tally.last_mid}" if tally.last_mid else ""
        result.unreadable = f"{exc} (after {tally.lines:,} records{where})"
    progress.advanced(BILLING, tally.cas, expected)
    if result.unreadable is None:
        for mid in sorted(set(out.in_flight) - out.in_flight_seen):
            out.flying(mid, "on neither side yet")
    out.flush()
    if result.unreadable is not None:
        withheld = withhold_missing(db, run_id, BILLING, MISSING_IN_BILLING)
        if withheld:
            result.unreadable += f"; {withheld:,} missing not confirmed"
        out.add(UNREADABLE, tally.last_mid, None, None, result.unreadable)
        out.flush()
    late = billing_work(db, after_id=before)
    if late:
        settle_late(db, run_id, BILLING, lambda mid, code, tx: _late(late, mid, code, tx))
    result.cas_numbers, result.switch_lines = tally.cas, tally.lines
    result.last_mid = tally.last_mid
    result.counts = counts_of(db, run_id, BILLING)
    result.seconds = time.monotonic() - began
    return result


def _late(late: UnderWay, mid: str, code: str | None, tx_id: int | None) -> str | None:
    found = late.of(mid, *([code] if code else []))
    if found is None and tx_id is not None:
        found = late.transactions.get(tx_id)
    return found


__all__ = ["LIVE", "BillingFindings", "compare_billing", "merge_billing"]
