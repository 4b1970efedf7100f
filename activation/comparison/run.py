"""The nightly comparison: every switch and billing against CAS, a report, repairs.

One run at a time (comparison.lock), side after side: for each switch, CAS's MIDs of its blocks
(comparison.cas_side) and the switch's dump are merged in one pass (comparison.merge); then
CAS's lines in service and billing's records (comparison.billing_side). The findings are stored
with the run (comparison.findings), the report is written (comparison.report), and with
`repair` the findings become activities and escalations (comparison.repair,
comparison.billing_repair). Without `repair` nothing else in CAS changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from activation.comparison.cas_side import active_records, count_active, reader
from activation.comparison.findings import Findings
from activation.comparison.in_flight import last_activity_id, switch_work
from activation.comparison.lock import ComparisonRunning, RunLock
from activation.comparison.merge import DumpFailed, Tally, dump_records, guarded, merge
from activation.comparison.progress import Progress, logged
from activation.comparison.side import SideResult, counts_of, settle_late, withhold_missing
from activation.parties.switching import definition
from activation.secrets import Vault
from activation.services import Services
from activation.store import audit
from activation.store.comparison import (
    BILLING,
    DISCREPANCIES,
    MISSING_ON_SWITCH,
    UNREADABLE,
    ComparisonRun,
)
from activation.store.db import Database
from activation.store.models import Switch, utcnow
from switch_adapters.port import SwitchDefinition

log = logging.getLogger("cas.comparison")


@dataclass(frozen=True)
class SwitchPlan:
    """One switch to compare: its definition and the NPA-NXX blocks CAS numbers it from."""

    id: int
    name: str
    definition: SwitchDefinition
    blocks: tuple[str, ...]


SwitchResult = SideResult  # what the comparison of one switch came to


@dataclass
class ComparisonResult:
    """A finished run: per-side results (switches, then billing), the report and its summary."""

    run_id: int
    sides: list[SideResult]
    summary: str = ""
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def switches(self) -> list[SideResult]:
        """The switches' results, by name."""
        return [r for r in self.sides if r.name != BILLING]

    @property
    def billing(self) -> SideResult | None:
        """Billing's result, when billing was compared."""
        return next((r for r in self.sides if r.name == BILLING), None)

    @property
    def discrepancies(self) -> int:
        """How many findings call for a repair."""
        return sum(r.counts.get(k, 0) for r in self.sides for k in DISCREPANCIES)

    @property
    def unreadable(self) -> dict[str, str]:
        """The sides that could not be read, and why."""
        return {r.name: r.unreadable for r in self.sides if r.unreadable is not None}


# -- a run -------------------------------------------------------------------------------------


def plan(db: Database, vault: Vault, names: Sequence[str] | None = None) -> list[SwitchPlan]:
    """The switches to compare: those named, or every active one; by name.

    `billing` among the names is the billing side, not a switch: it is left out here.
    """
    wanted = [name for name in names or () if name != BILLING]
    if names and not wanted:
        return []  # billing alone
    with db.read() as session:
        query = select(Switch).order_by(Switch.name)
        if wanted:
            query = query.where(Switch.name.in_(wanted))
        else:
            query = query.where(Switch.active.is_(True))
        switches = list(session.scalars(query))
        unknown = sorted(set(wanted) - {s.name for s in switches})
        if unknown:
            raise ValueError(f"no such switch: {', '.join(unknown)}")
        plans = []
        for switch in switches:
            blocks = sorted(block.npa_nxx for block in switch.blocks)
            plans.append(
                SwitchPlan(switch.id, switch.name, definition(switch, vault), tuple(blocks))
            )
        return plans


def compares_billing(names: Sequence[str] | None) -> bool:
    """Billing is compared by default, and when named; naming only switches leaves it out."""
    return not names or BILLING in names


def compare_switch(
    services: Services,
    run: ComparisonRun,
    target: SwitchPlan,
    progress: Progress,
    lock: RunLock,
) -> SwitchResult:
    """Merge one switch's dump with CAS's side and record the findings of this run."""
    db = services.db
    result = SideResult(target.name)
    began = time.monotonic()
    expected = count_active(db, target.blocks)
    progress.event("switch_started", run=run.id, switch=target.name, expected=expected)
    # Work under way now is in flight; work queued later is found after the merge.
    before = last_activity_id(db)
    out = Findings(db, run.id, target.name, switch_work(db, target.id, target.name))
    tally = Tally()

    def tick(done: int) -> None:
        progress.advanced(target.name, done, expected)
        lock.renew()

    try:
        line = services.switches.open(target.definition)
    except Exception as exc:  # every way a switch can refuse us is a reason it was not read
        result.unreadable = f"could not open: {type(exc).__name__}: {exc}"
    else:
        keeps_features = bool(getattr(line, "keeps_features", True))
        try:
            with reader(db) as conn:
                cas = active_records(conn, target.blocks, features=keeps_features)
                dump = guarded(dump_records(line))
                merge(cas, dump, out, tally, keeps_features=keeps_features, tick=tick)
        except DumpFailed as exc:
            where = f", last MID {tally.last_mid}" if tally.last_mid else ""
            result.unreadable = f"{exc} (after {tally.lines:,} lines{where})"
        finally:
            try:
                line.close()
            except Exception as exc:  # the comparison is done; a failed log-off changes nothing
                log.warning("%s: close failed: %s", target.name, exc)
    progress.advanced(target.name, tally.cas, expected)
    if result.unreadable is None:
        for mid in sorted(set(out.in_flight) - out.in_flight_seen):
            out.flying(mid, "on neither side yet")
    out.flush()
    if result.unreadable is not None:
        withheld = withhold_missing(db, run.id, target.name, MISSING_ON_SWITCH)
        if withheld:
            result.unreadable += f"; {withheld:,} missing not confirmed"
        out.add(UNREADABLE, tally.last_mid, None, None, result.unreadable)
        out.flush()
    late = switch_work(db, target.id, target.name, after_id=before)
    if late:
        settle_late(db, run.id, target.name, lambda mid, _code, _tx: late.get(mid))
    result.cas_numbers, result.switch_lines = tally.cas, tally.lines
    result.last_mid = tally.last_mid
    result.counts = counts_of(db, run.id, target.name)
    result.seconds = time.monotonic() - began
    return result


def run_comparison(
    services: Services,
    switches: Sequence[str] | None = None,
    report_dir: Path | None = None,
    repair: bool = False,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Compare CAS with its sides, report, optionally repair.

    The sides are the switches named in `switches` and billing when `billing` is among them;
    every active switch and billing by default. Raises ComparisonRunning when another run holds
    the lock, and ValueError for a switch name CAS does not know. Without `repair` nothing but
    the run, its findings and the report is written.
    """
    from activation.comparison.billing_repair import repair_billing
    from activation.comparison.billing_side import compare_billing
    from activation.comparison.repair import repair_switch
    from activation.comparison.report import write_report

    progress = progress or logged()
    report_dir = report_dir or services.settings.data_dir / "comparisons"
    db = services.db
    targets = plan(db, services.vault, switches)
    with_billing = compares_billing(switches)
    sides = [t.name for t in targets] + ([BILLING] if with_billing else [])
    lock = RunLock(db)
    lock.acquire()
    try:
        with db.transaction() as session:
            run = ComparisonRun(started_by=lock.holder, repair=repair, switches=sides)
            session.add(run)
            session.flush()
        lock.renew(run.id, force=True)
        progress.event("run_started", run=run.id, switches=run.switches, repair=repair)
        try:
            results = []
            for target in targets:
                outcome = compare_switch(services, run, target, progress, lock)
                if repair:
                    outcome.repairs = repair_switch(db, run.id, target.id, target.name, lock.renew)
                results.append(outcome)
                progress.event(
                    "switch_finished",
                    run=run.id,
                    switch=target.name,
                    cas_numbers=outcome.cas_numbers,
                    switch_lines=outcome.switch_lines,
                    counts=outcome.counts,
                    repairs=outcome.repairs,
                    unreadable=outcome.unreadable,
                    seconds=round(outcome.seconds, 2),
                )
            if with_billing:
                outcome = compare_billing(services, run.id, progress, lock)
                if repair:
                    outcome.repairs = repair_billing(db, run.id, lock.renew)
                results.append(outcome)
                progress.event(
                    "billing_finished",
                    run=run.id,
                    side=BILLING,
                    cas_lines=outcome.cas_numbers,
                    billing_records=outcome.switch_lines,
                    counts=outcome.counts,
                    repairs=outcome.repairs,
                    unreadable=outcome.unreadable,
                    seconds=round(outcome.seconds, 2),
                )
            result = ComparisonResult(run.id, results)
            _finish(db, run, result)
            with reader(db) as conn:
                result.files = write_report(conn, run, report_dir)
            result.summary = run.summary
            with db.transaction() as session:
                session.execute(
                    update(ComparisonRun)
                    .where(ComparisonRun.id == run.id)
                    .values(summary=run.summary, report_path=run.report_path)
                )
        except BaseException as exc:
            with db.transaction() as session:
                session.execute(
                    update(ComparisonRun)
                    .where(ComparisonRun.id == run.id)
                    .values(state="failed", finished_at=utcnow(), error=repr(exc)[:300])
                )
            raise
    finally:
        lock.release()
    progress.event(
        "run_finished",
        run=run.id,
        discrepancies=result.discrepancies,
        unreadable=result.unreadable,
        report=str(result.files.get("csv", "")),
    )
    return result


def _finish(db: Database, run: ComparisonRun, result: ComparisonResult) -> None:
    """Mark the run done with its counts, and audit it."""
    run.state = "done"
    run.finished_at = utcnow()
    run.counts = {r.name: r.counts for r in result.sides}
    run.unreadable = result.unreadable
    run.cas_numbers = sum(r.cas_numbers for r in result.switches)
    run.switch_numbers = sum(r.switch_lines for r in result.switches)
    billing = result.billing
    if billing is not None:
        run.billing_lines, run.billing_records = billing.cas_numbers, billing.switch_lines
    run.discrepancies = result.discrepancies
    with db.transaction() as session:
        session.merge(run)
        audit.record(
            session,
            "comparison",
            str(run.id),
            "running",
            "done",
            "comparison",
            f"{run.discrepancies} discrepancies, {len(run.unreadable)} sides unreadable",
        )


__all__ = [
    "ComparisonResult",
    "SideResult",
    "ComparisonRunning",
    "DumpFailed",
    "Findings",
    "SwitchPlan",
    "SwitchResult",
    "Tally",
    "compare_switch",
    "compares_billing",
    "merge",
    "plan",
    "run_comparison",
]
