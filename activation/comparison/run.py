"""The nightly telephone-number comparison: every switch against CAS, a report, repairs.

One run at a time (comparison_lock), switch after switch: CAS's active MIDs (comparison_cas)
and the switch's dump are merged in one pass (comparison_merge), the findings are stored with
the run (comparison_findings), the report is written (comparison_report), and with `repair`
the findings become activities and escalations (comparison_repair). Without `repair` nothing
else in CAS changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select, update

from activation.comparison.cas_side import (
    active_records,
    count_active,
    inserts_under_way,
    last_activity_id,
    reader,
)
from activation.comparison.findings import Findings
from activation.comparison.lock import ComparisonRunning, RunLock
from activation.comparison.merge import DumpFailed, Tally, dump_records, guarded, merge
from activation.comparison.progress import Progress, logged
from activation.parties.switching import definition
from activation.secrets import Vault
from activation.services import Services
from activation.store import audit
from activation.store.comparison import (
    DISCREPANCIES,
    IN_FLIGHT,
    MISSING_ON_SWITCH,
    UNREADABLE,
    ComparisonFinding,
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


@dataclass
class SwitchResult:
    """What the comparison of one switch came to."""

    name: str
    cas_numbers: int = 0
    switch_lines: int = 0
    last_mid: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    unreadable: str | None = None
    seconds: float = 0.0
    repairs: dict[str, int] = field(default_factory=dict)


@dataclass
class ComparisonResult:
    """A finished run: per-switch results, the report files and the summary text."""

    run_id: int
    switches: list[SwitchResult]
    summary: str = ""
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def discrepancies(self) -> int:
        """How many findings call for a repair."""
        return sum(r.counts.get(k, 0) for r in self.switches for k in DISCREPANCIES)

    @property
    def unreadable(self) -> dict[str, str]:
        """The switches that could not be read, and why."""
        return {r.name: r.unreadable for r in self.switches if r.unreadable is not None}


# -- a run -------------------------------------------------------------------------------------


def plan(db: Database, vault: Vault, names: Sequence[str] | None = None) -> list[SwitchPlan]:
    """The switches to compare: those named, or every active one; by name."""
    with db.read() as session:
        query = select(Switch).order_by(Switch.name)
        if names:
            query = query.where(Switch.name.in_(names))
        else:
            query = query.where(Switch.active.is_(True))
        switches = list(session.scalars(query))
        unknown = sorted(set(names or ()) - {s.name for s in switches})
        if unknown:
            raise ValueError(f"no such switch: {', '.join(unknown)}")
        plans = []
        for switch in switches:
            blocks = sorted(block.npa_nxx for block in switch.blocks)
            plans.append(
                SwitchPlan(switch.id, switch.name, definition(switch, vault), tuple(blocks))
            )
        return plans


def compare_switch(
    services: Services,
    run: ComparisonRun,
    target: SwitchPlan,
    progress: Progress,
    lock: RunLock,
) -> SwitchResult:
    """Merge one switch's dump with CAS's side and record the findings of this run."""
    db = services.db
    result = SwitchResult(target.name)
    began = time.monotonic()
    expected = count_active(db, target.blocks)
    progress.event("switch_started", run=run.id, switch=target.name, expected=expected)
    # Insertions queued now are in flight; those queued later are found after the merge.
    before = last_activity_id(db)
    out = Findings(db, run.id, target.name, inserts_under_way(db, target.id))
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
        withheld = _withhold_missing(db, run.id, target.name)
        if withheld:
            result.unreadable += f"; {withheld:,} missing not confirmed"
        out.add(UNREADABLE, tally.last_mid, None, None, result.unreadable)
        out.flush()
    _settle_late(db, run.id, target, inserts_under_way(db, target.id, after_id=before))
    result.cas_numbers, result.switch_lines = tally.cas, tally.lines
    result.last_mid = tally.last_mid
    result.counts = counts_of(db, run.id, target.name)
    result.seconds = time.monotonic() - began
    return result


def _withhold_missing(db: Database, run_id: int, switch: str) -> int:
    """Drop a broken dump's 'missing' findings: lines it never sent prove nothing."""
    with db.transaction() as session:
        gone = session.execute(
            delete(ComparisonFinding).where(
                ComparisonFinding.run_id == run_id,
                ComparisonFinding.switch_name == switch,
                ComparisonFinding.kind == MISSING_ON_SWITCH,
            )
        )
        return int(gone.rowcount)  # type: ignore[attr-defined]


def _settle_late(db: Database, run_id: int, target: SwitchPlan, late: dict[str, int]) -> None:
    """Make discrepancies of MIDs whose insertion was queued during the merge in-flight ones.

    An activation that went through while the switch was being read shows on one side only,
    depending on which side was read first: that is a number in flight, not a discrepancy.
    """
    if not late:
        return
    with db.transaction() as session:
        rows = session.execute(
            select(ComparisonFinding.id, ComparisonFinding.mid).where(
                ComparisonFinding.run_id == run_id,
                ComparisonFinding.switch_name == target.name,
                ComparisonFinding.kind.in_(DISCREPANCIES),
                ComparisonFinding.mid.in_(sorted(late)),
            )
        ).all()
        settled: set[str] = set()
        for finding_id, mid in rows:
            if mid in settled:  # ESN and features both differed: one in-flight row is enough
                session.execute(delete(ComparisonFinding).where(ComparisonFinding.id == finding_id))
                continue
            settled.add(mid)
            session.execute(
                update(ComparisonFinding)
                .where(ComparisonFinding.id == finding_id)
                .values(
                    kind=IN_FLIGHT,
                    detail=f"switch_insert activity {late[mid]} queued during the run",
                )
            )


def counts_of(db: Database, run_id: int, switch: str) -> dict[str, int]:
    """Count one switch's findings in a run by kind."""
    with db.read() as session:
        rows = session.execute(
            select(ComparisonFinding.kind, func.count())
            .where(ComparisonFinding.run_id == run_id, ComparisonFinding.switch_name == switch)
            .group_by(ComparisonFinding.kind)
        )
        return {kind: int(n) for kind, n in rows}


def run_comparison(
    services: Services,
    switches: Sequence[str] | None = None,
    report_dir: Path | None = None,
    repair: bool = False,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Compare CAS with the switches (all active ones by default), report, optionally repair.

    Raises ComparisonRunning when another run holds the lock, and ValueError for a switch name
    CAS does not know. Without `repair` nothing but the run, its findings and the report is
    written.
    """
    from activation.comparison.repair import repair_switch
    from activation.comparison.report import write_report

    progress = progress or logged()
    report_dir = report_dir or services.settings.data_dir / "comparisons"
    db = services.db
    targets = plan(db, services.vault, switches)
    lock = RunLock(db)
    lock.acquire()
    try:
        with db.transaction() as session:
            run = ComparisonRun(
                started_by=lock.holder, repair=repair, switches=[t.name for t in targets]
            )
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
    run.counts = {r.name: r.counts for r in result.switches}
    run.unreadable = result.unreadable
    run.cas_numbers = sum(r.cas_numbers for r in result.switches)
    run.switch_numbers = sum(r.switch_lines for r in result.switches)
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
            f"{run.discrepancies} discrepancies, {len(run.unreadable)} switches unreadable",
        )


__all__ = [
    "ComparisonResult",
    "ComparisonRunning",
    "DumpFailed",
    "Findings",
    "SwitchPlan",
    "SwitchResult",
    "Tally",
    "compare_switch",
    "merge",
    "plan",
    "run_comparison",
]
