"""Whole comparison runs against switch simulator processes, on SQLite and PostgreSQL.

Each test seeds the simulators' subscriber files and CAS's database with known differences
and checks the findings exactly. Billing holds every line's record here, as it should; its
own differences are planted in test_comparison_billing.py.
"""

from __future__ import annotations

import csv
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from activation.comparison.lock import ComparisonRunning, RunLock
from activation.comparison.run import run_comparison
from activation.jobs.worker import Worker
from activation.lifecycle.assignment import billing_record
from activation.parties.switching import definition
from activation.queue import activities
from activation.services import Services
from activation.settings import Settings
from activation.store.comparison import ComparisonFinding, ComparisonLock, ComparisonRun
from activation.store.db import Database
from activation.store.models import (
    Activity,
    Escalation,
    Switch,
    TelephoneNumber,
    Transaction,
    utcnow,
)
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap
from ivr.compare_cli import EXIT_BUSY, compare
from switch_adapters.port import Subscriber
from switch_adapters.simulator.process import SimulatorProcess, start_simulator
from switch_adapters.simulator.store import Store

from .conftest import TEST_SECRET
from .pg import needs_postgres, private_database


def esn(mid: str) -> str:
    return "1" + mid


def code_of(mid: str) -> str:
    """The eight-digit transaction code of the line planted on a MID."""
    return f"{mid[0]}{mid[-7:]}"


SWITCH_OF = {"713555": "HOU1", "281555": "HOU2", "832555": "HOU3"}


def activate(
    session, mid: str, plan: str = "10", handset: str = "", status: str = "active"
) -> Transaction:
    """Make a MID a line in service in CAS (active, or suspended) for a transaction of its own."""
    tx = Transaction(
        code=code_of(mid),
        agent_id=1,
        status=status,
        step="done",
        esn=handset or esn(mid),
        rate_plan_code=plan,
        npa_nxx=mid[:6],
        mid=mid,
        switch_name=SWITCH_OF[mid[:6]],
        bureau_name="Jane Q Public",
        bureau_address="12 Main Street, Houston, Texas",
        deposit_cents=0,
        deposit_method="",
    )
    session.add(tx)
    session.flush()
    session.execute(
        update(TelephoneNumber)
        .where(TelephoneNumber.mid == mid)
        .values(status="active", transaction_id=tx.id)
    )
    return tx


def queue_insert(session, mid: str, switch: str) -> int:
    """Reserve a MID for a transaction whose switch insertion is still queued."""
    switch_id = session.scalar(select(Switch.id).where(Switch.name == switch))
    tx = Transaction(
        code=f"9{mid[0]}{mid[-6:]}",
        agent_id=1,
        status="assigning",
        step="number",
        esn=esn(mid),
        rate_plan_code="10",
        npa_nxx=mid[:6],
        mid=mid,
        switch_name=switch,
    )
    session.add(tx)
    session.flush()
    session.execute(
        update(TelephoneNumber)
        .where(TelephoneNumber.mid == mid)
        .values(status="reserved", transaction_id=tx.id)
    )
    subscriber = {"mid": mid, "esn": esn(mid), "features": "10"}
    activity = activities.enqueue(
        session,
        "switch_insert",
        {"switch_id": switch_id, "subscriber": subscriber},
        target=switch,
        transaction_id=tx.id,
    )
    return activity.id


class Switches:
    """Simulator processes for the demo switches, each seeded through its subscriber file."""

    def __init__(self, services: Services, tmp_path: Path, stack: ExitStack) -> None:
        self.services = services
        self.tmp_path = tmp_path
        self.stack = stack
        self.started: dict[str, SimulatorProcess] = {}

    def start(self, name: str, subscribers: list[Subscriber], *extra: str) -> SimulatorProcess:
        with self.services.db.transaction() as session:
            row = session.scalar(select(Switch).where(Switch.name == name))
            store_path = self.tmp_path / f"switch-{name}.sqlite3"
            with Store(store_path) as store:
                store.load(subscribers)
            sim = start_simulator(
                row.dialect,
                store_path,
                name=row.logon_name,
                secret=definition(row, self.services.vault).logon_secret,
                extra_args=list(extra),
            )
            self.stack.callback(sim.stop)
            row.primary_url = sim.url
        self.started[name] = sim
        return sim


@pytest.fixture
def switches(services: Services, tmp_path: Path) -> Iterator[Switches]:
    with ExitStack() as stack:
        yield Switches(services, tmp_path, stack)


def bill_every_line(services: Services) -> None:
    """Give billing the record of every line in service, as the activations would have."""
    with services.db.read() as session:
        lines = session.scalars(
            select(Transaction).where(Transaction.status.in_(("active", "suspended")))
        ).all()
        for tx in lines:
            services.billing.submit(billing_record(tx))


def findings(services: Services, run_id: int) -> set[tuple[str, str, str]]:
    with services.db.transaction() as session:
        rows = session.execute(
            select(
                ComparisonFinding.switch_name, ComparisonFinding.kind, ComparisonFinding.mid
            ).where(ComparisonFinding.run_id == run_id)
        ).all()
    return {(s, k, m) for s, k, m in rows}


def count(services: Services, model) -> int:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


HOU1, HOU2, HOU3 = "713555", "281555", "832555"

# What the seeded world holds wrong, by switch: every kind, both ends of HOU1's MID range,
# an empty switch (HOU2) and a switch CAS has nothing on (HOU3).
EXPECTED = {
    ("HOU1", "unknown_to_cas", HOU1 + "0000"),
    ("HOU1", "missing_on_switch", HOU1 + "0001"),
    ("HOU1", "esn_mismatch", HOU1 + "0003"),
    ("HOU1", "feature_mismatch", HOU1 + "0004"),
    ("HOU1", "unknown_to_cas", HOU1 + "0005"),
    ("HOU1", "in_flight", HOU1 + "0006"),
    ("HOU1", "in_flight", HOU1 + "0007"),
    ("HOU1", "missing_on_switch", HOU1 + "9999"),
    ("HOU2", "missing_on_switch", HOU2 + "0001"),
    ("HOU2", "missing_on_switch", HOU2 + "9999"),
    ("HOU3", "unknown_to_cas", HOU3 + "0001"),
    ("HOU3", "unknown_to_cas", HOU3 + "0002"),
    ("HOU3", "unknown_to_cas", HOU3 + "9999"),
}


def seed_every_kind(services: Services, switches: Switches) -> None:
    with services.db.transaction() as session:
        for suffix in ("0001", "0002", "0003", "0004", "9999"):
            activate(session, HOU1 + suffix)
        queue_insert(session, HOU1 + "0006", "HOU1")  # done on the switch, not yet applied
        queue_insert(session, HOU1 + "0007", "HOU1")  # not on the switch yet
        activate(session, HOU2 + "0001")
        activate(session, HOU2 + "9999", plan="20")
    bill_every_line(services)
    switches.start(
        "HOU1",
        [
            Subscriber(HOU1 + "0000", esn(HOU1 + "0000"), "10"),
            Subscriber(HOU1 + "0002", esn(HOU1 + "0002"), "10"),
            Subscriber(HOU1 + "0003", "13899999999", "10"),
            Subscriber(HOU1 + "0004", esn(HOU1 + "0004"), "20"),
            Subscriber(HOU1 + "0005", esn(HOU1 + "0005"), "30"),
            Subscriber(HOU1 + "0006", esn(HOU1 + "0006"), "10"),
        ],
    )
    switches.start("HOU2", [])
    switches.start(
        "HOU3", [Subscriber(HOU3 + s, esn(HOU3 + s), "10") for s in ("0001", "0002", "9999")]
    )


def test_a_dry_run_finds_every_kind_exactly_and_changes_nothing(services, switches, tmp_path):
    seed_every_kind(services, switches)
    queued, escalated = count(services, Activity), count(services, Escalation)
    result = run_comparison(services, report_dir=tmp_path / "reports")

    assert findings(services, result.run_id) == EXPECTED
    assert result.unreadable == {}
    assert result.discrepancies == 11
    assert {r.name: (r.cas_numbers, r.switch_lines) for r in result.sides} == {
        "HOU1": (5, 6),
        "HOU2": (2, 0),
        "HOU3": (0, 3),
        "billing": (7, 7),
    }
    assert (count(services, Activity), count(services, Escalation)) == (queued, escalated)

    with services.db.transaction() as session:
        run = session.get_one(ComparisonRun, result.run_id)
        assert run.state == "done" and not run.repair
        assert run.counts["HOU1"] == {
            "unknown_to_cas": 2,
            "missing_on_switch": 2,
            "esn_mismatch": 1,
            "feature_mismatch": 1,
            "in_flight": 2,
        }
        assert run.summary == result.summary
        assert run.report_path == str(result.files["csv"])
    with result.files["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["side"], r["mid"]) for r in rows] == sorted((s, m) for s, _, m in EXPECTED)
    details = {r["mid"]: r["detail"] for r in rows if r["kind"] == "unknown_to_cas"}
    assert details[HOU1 + "0000"] == "not in CAS's number inventory"
    assert details[HOU1 + "0005"] == "free in CAS"
    esn_row = next(r for r in rows if r["kind"] == "esn_mismatch")
    assert (esn_row["cas_esn"], esn_row["side_esn"], esn_row["transaction"]) == (
        esn(HOU1 + "0003"),
        "13899999999",
        code_of(HOU1 + "0003"),
    )
    assert result.files["txt"].read_text() == result.summary
    assert "HOU1" in result.summary and "dry run" in result.summary
    ET.fromstring(result.files["svg"].read_text())  # a well-formed chart


def test_repair_queues_reinserts_flags_the_rest_and_the_next_run_is_clean(
    services, switches, tmp_path
):
    seed_every_kind(services, switches)
    first = run_comparison(services, report_dir=tmp_path / "reports", repair=True)
    with services.db.transaction() as session:
        done = session.execute(
            select(ComparisonFinding.kind, ComparisonFinding.mid, ComparisonFinding.repair).where(
                ComparisonFinding.run_id == first.run_id
            )
        ).all()
        queued = session.scalars(
            select(Activity).where(Activity.payload["repair_of_run"].as_integer() == first.run_id)
        ).all()
    by_mid = {(kind, mid): repair for kind, mid, repair in done}
    assert {k for k, r in by_mid.items() if r == "queued"} == {
        (kind, mid) for _, kind, mid in EXPECTED if kind == "missing_on_switch"
    }
    assert {k for k, r in by_mid.items() if r == "flagged"} == {
        (kind, mid)
        for _, kind, mid in EXPECTED
        if kind in ("unknown_to_cas", "esn_mismatch", "feature_mismatch")
    }
    assert sorted(a.payload["subscriber"]["mid"] for a in queued) == [
        HOU2 + "0001",
        HOU2 + "9999",
        HOU1 + "0001",
        HOU1 + "9999",
    ]
    assert {a.payload["subscriber"]["features"] for a in queued} == {"10", "20"}
    escalated = count(services, Escalation)
    assert escalated == 7

    worker = Worker(services, "comparison-test")
    while worker.run_once():
        pass

    second = run_comparison(services, report_dir=tmp_path / "reports", repair=True)
    assert findings(services, second.run_id) == {
        f for f in EXPECTED if f[1] not in ("missing_on_switch", "in_flight")
    }
    assert count(services, Escalation) == escalated  # flagged once, not every night
    assert switches.started["HOU2"].subscribers() == [
        Subscriber(HOU2 + "0001", esn(HOU2 + "0001"), "10"),
        Subscriber(HOU2 + "9999", esn(HOU2 + "9999"), "20"),
    ]
    # The chart and summary follow the trend over both runs.
    assert f"run {first.run_id:>5}" in second.summary
    assert f"run {second.run_id:>5}" in second.summary


def test_a_switch_that_drops_the_line_mid_dump(services, switches, tmp_path):
    block = [HOU3 + f"{n:04d}" for n in range(1, 301)]
    with services.db.transaction() as session:
        for mid in block + [HOU3 + "0301"]:
            if mid not in (HOU3 + "0005", HOU3 + "0290"):
                activate(session, mid)
    on_switch = [Subscriber(mid, esn(mid), "10") for mid in block if mid != HOU3 + "0010"]
    sim = switches.start("HOU3", on_switch, "--part-size", "100")
    gateway = services.switches

    class DropsAfterLogOn:
        """Opens the real line, then has the switch cut the next answer: the dump's."""

        def open(self, defn):  # type: ignore[no-untyped-def]
            line = gateway.open(defn)
            sim.control("drop 1")  # the first part is cut half-way and the line hung up
            return line

    services.switches = DropsAfterLogOn()
    result = run_comparison(services, ["HOU3"], tmp_path / "reports")

    (outcome,) = result.switches
    assert 0 < outcome.switch_lines < 100
    last = outcome.last_mid
    assert findings(services, result.run_id) == {
        ("HOU3", "unknown_to_cas", HOU3 + "0005"),  # seen before the cut: a fact
        ("HOU3", "unreadable", last),
        # no 'missing' at all: 0010 (before the cut) and 0301 (after) are not confirmed
    }
    assert result.unreadable["HOU3"].startswith("LineDown")
    assert f"after {outcome.switch_lines} lines, last MID {last}" in result.unreadable["HOU3"]
    assert "missing not confirmed" in result.unreadable["HOU3"]
    assert "HOU3" in result.summary and "Could not be read" in result.summary


def test_a_switch_that_refuses_the_log_on_is_unreadable(services, switches, tmp_path):
    with services.db.transaction() as session:
        activate(session, HOU1 + "0001")
    switches.start("HOU1", [])
    with services.db.transaction() as session:
        wrong = services.vault.encrypt("wrong")
        session.execute(
            update(Switch).where(Switch.name == "HOU1").values(logon_secret_encrypted=wrong)
        )
    result = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert findings(services, result.run_id) == {("HOU1", "unreadable", "")}
    assert result.unreadable["HOU1"].startswith("could not open: SwitchDenied")


@pytest.mark.parametrize("applied", [False, True], ids=["queued", "applied"])
def test_an_activation_during_the_run_is_in_flight_not_unknown(
    services, switches, tmp_path, applied
):
    mid = HOU1 + "0042"
    # The switch already holds the number when its dump passes it...
    switches.start("HOU1", [Subscriber(mid, esn(mid), "10")])

    class ActivationDuringTheMerge:
        """...and CAS queues (or even completes) the activation just after it was read."""

        def event(self, name, **fields):  # type: ignore[no-untyped-def]
            pass

        def advanced(self, switch, done, expected):  # type: ignore[no-untyped-def]
            with services.db.transaction() as session:
                activity_id = queue_insert(session, mid, "HOU1")
                if applied:
                    session.execute(
                        update(TelephoneNumber)
                        .where(TelephoneNumber.mid == mid)
                        .values(status="active")
                    )
                    session.execute(
                        update(Activity)
                        .where(Activity.id == activity_id)
                        .values(state="done", done_at=utcnow())
                    )

    progress = ActivationDuringTheMerge()
    result = run_comparison(services, ["HOU1"], tmp_path / "r", progress=progress)
    assert findings(services, result.run_id) == {("HOU1", "in_flight", mid)}
    assert result.discrepancies == 0
    # The next night it is simply in order.
    if applied:
        later = run_comparison(services, ["HOU1"], tmp_path / "r")
        assert findings(services, later.run_id) == set()


# -- one run at a time -------------------------------------------------------------------------


def test_a_run_that_overlaps_a_running_one_refuses(services, switches, tmp_path):
    switches.start("HOU1", [])
    inside, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    class Paused:
        """Holds the first run inside its comparison until the second has tried."""

        def event(self, name, **fields):  # type: ignore[no-untyped-def]
            if name == "switch_started":
                inside.set()
                release.wait(30)

        def advanced(self, switch, done, expected):  # type: ignore[no-untyped-def]
            pass

    def first() -> None:
        outcome["first"] = run_comparison(services, ["HOU1"], tmp_path / "r", progress=Paused())

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(ComparisonRunning, match="already running"):
            run_comparison(services, ["HOU1"], tmp_path / "r")
    finally:
        release.set()
        thread.join(60)
    assert outcome["first"].unreadable == {}  # type: ignore[attr-defined]
    with services.db.transaction() as session:
        assert session.scalars(select(ComparisonRun.state)).all() == ["done"]
        assert session.scalar(select(ComparisonLock)) is None  # released
    # Once the first run is over, the next one runs.
    run_comparison(services, ["HOU1"], tmp_path / "r")


def test_a_lock_left_by_a_dead_run_expires(services, switches, tmp_path):
    switches.start("HOU1", [])
    with services.db.transaction() as session:
        session.add(
            ComparisonLock(
                name="comparison",
                holder="crashed-host:1:abc",
                acquired_at=utcnow(),
                expires_at=utcnow(),
            )
        )
    result = run_comparison(services, ["HOU1"], tmp_path / "r")
    assert result.unreadable == {}


def test_a_failed_run_gives_the_lock_back(services, tmp_path):
    (tmp_path / "r").write_text("a file where the report directory should be")
    with pytest.raises(OSError):
        run_comparison(services, ["HOU1"], tmp_path / "r")
    with services.db.transaction() as session:
        assert session.scalars(select(ComparisonRun.state)).all() == ["failed"]
        assert session.scalar(select(ComparisonLock)) is None


# -- the command ------------------------------------------------------------------------------


def test_cas_compare_writes_json_lines_when_not_in_a_terminal(
    services, switches, settings, tmp_path, monkeypatch
):
    seed_every_kind(services, switches)
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CAS_SECRET_KEY", TEST_SECRET)
    runner = CliRunner()
    reports = tmp_path / "cli-reports"
    args = ["--switch", "HOU2", "--switch", "HOU3", "--report", str(reports)]
    outcome = runner.invoke(compare, [*args, "--data-dir", str(settings.data_dir)])
    assert outcome.exit_code == 1, outcome.output
    events = [json.loads(text) for text in outcome.output.splitlines()]
    assert [e["event"] for e in events] == [
        "run_started",
        "switch_started",
        "switch_finished",
        "switch_started",
        "switch_finished",
        "run_finished",
    ]
    assert events[2]["counts"] == {"missing_on_switch": 2}
    assert events[4]["counts"] == {"unknown_to_cas": 3}
    assert events[-1]["discrepancies"] == 5
    assert Path(events[-1]["report"]).parent == reports

    lock = RunLock(services.db)
    lock.acquire()
    busy = runner.invoke(compare, [*args, "--data-dir", str(settings.data_dir)])
    lock.release()
    assert busy.exit_code == EXIT_BUSY
    unknown = runner.invoke(compare, ["--switch", "NOPE", "--data-dir", str(settings.data_dir)])
    assert unknown.exit_code == 2 and "no such switch: NOPE" in unknown.output


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def pg_services(tmp_path: Path) -> Iterator[Services]:
    with private_database() as url:
        settings = Settings(data_dir=tmp_path, database_url=url, secret_key=TEST_SECRET)
        init_database(settings, demo=True)
        services = bootstrap(settings)
        yield services
        services.db.dispose()


@needs_postgres
def test_every_kind_exactly_on_postgres(pg_services, tmp_path):
    with ExitStack() as stack:
        seed_every_kind(pg_services, Switches(pg_services, tmp_path, stack))
        result = run_comparison(pg_services, report_dir=tmp_path / "reports")
        assert findings(pg_services, result.run_id) == EXPECTED


@needs_postgres
def test_the_lock_refuses_a_second_run_on_postgres(pg_services):
    first, second = RunLock(pg_services.db), RunLock(Database(pg_services.db.url))
    first.acquire()
    try:
        with pytest.raises(ComparisonRunning):
            second.acquire()
    finally:
        first.release()
        second.db.dispose()
    second = RunLock(pg_services.db)
    second.acquire()
    second.release()
