"""The billing side of the comparison: CAS's lines in service against billing's records.

Each test plants lines in CAS's database and records in the in-process billing simulator (the
billing protocol's real adapter talking to the desk `cas partner-sim billing` serves), one of
each kind of difference, and checks the findings exactly, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from activation.comparison import billing_side
from activation.comparison.run import run_comparison
from activation.jobs.worker import Worker
from activation.lifecycle.assignment import billing_record
from activation.parties.ports import BillingPage, BillingRecord
from activation.queue import activities
from activation.services import Services
from activation.settings import Settings
from activation.store.comparison import ComparisonFinding
from activation.store.models import Activity, Escalation, Transaction
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap
from ivr.compare_cli import compare

from .conftest import TEST_SECRET
from .pg import needs_postgres, private_database
from .test_comparison_run import HOU1, activate, code_of, count, findings


def on(suffix: str) -> str:
    return HOU1 + suffix


def record(tx: Transaction, **changes: str) -> BillingRecord:
    """The line's record as CAS would send it, with what billing holds otherwise."""
    return replace(billing_record(tx), **changes)


def gone(session, mid: str, code: str, status: str) -> Transaction:  # type: ignore[no-untyped-def]
    """A transaction that once held the MID and holds it no longer (denied, disconnected)."""
    tx = Transaction(
        code=code,
        agent_id=1,
        status=status,
        step="done",
        esn="1" + mid,
        rate_plan_code="10",
        npa_nxx=mid[:6],
        former_mid=mid if status == "disconnected" else None,
        switch_name="HOU1",
    )
    session.add(tx)
    session.flush()
    return tx


EXPECTED = {
    ("billing", "missing_in_billing", on("0002")),
    ("billing", "billing_esn", on("0003")),
    ("billing", "billing_plan", on("0004")),
    ("billing", "billing_state", on("0005")),
    ("billing", "other_transaction", on("0006")),  # billed on the earlier holder's number
    ("billing", "other_transaction", on("0007")),  # ...and on a transaction CAS never had
    ("billing", "extra_in_billing", on("0008")),  # a stray record, its transaction unknown
    ("billing", "extra_in_billing", on("0009")),  # a denied MID's record left behind
    ("billing", "extra_in_billing", on("0012")),  # a line's record under a MID it lost
    ("billing", "missing_in_billing", on("0013")),  # ...that line's own MID
    ("billing", "in_flight", on("0014")),  # its record is on the queue
}


def seed(services: Services) -> None:
    """Plant one of each kind; 0001, 0010, 0011 and 0015 are as they should be."""
    billing = services.billing
    with services.db.transaction() as session:
        line = {s: activate(session, on(s)) for s in ("0001", "0002", "0003", "0004", "0006")}
        line["0005"] = activate(session, on("0005"), status="suspended")
        line["0007"] = activate(session, on("0007"))
        line["0011"] = activate(session, on("0011"))
        line["0013"] = activate(session, on("0013"))
        line["0014"] = activate(session, on("0014"))
        line["0015"] = activate(session, on("0015"), status="suspended")
        for suffix in ("0001", "0007", "0011", "0015"):
            billing.submit(record(line[suffix]))
        billing.submit(record(line["0003"], esn="13899990003"))
        billing.submit(record(line["0004"], rate_plan="30"))
        billing.submit(record(line["0005"], line_state="active"))
        # 0006: the number's earlier line ended, but its record still bills it as active.
        earlier = gone(session, on("0006"), "60000006", "disconnected")
        billing.submit(record(earlier, mid=on("0006")))
        # 0007: a record CAS never sent, beside the line's own.
        billing.submit(record(line["0007"], transaction_code="99990007"))
        # 0008: a stray record; 0009: a denied MID's record never withdrawn.
        billing.submit(record(line["0001"], transaction_code="99990008", mid=on("0008")))
        denied = gone(session, on("0009"), "60000009", "denied")
        billing.submit(record(denied, mid=on("0009")))
        # 0010: a disconnected line's final record, as it should stay.
        final = gone(session, on("0010"), "60000010", "disconnected")
        billing.submit(record(final, mid=on("0010"), line_state="disconnected"))
        # 0011: the number came back from aging; its earlier line's final record stays.
        aged = gone(session, on("0011"), "60000011", "disconnected")
        billing.submit(record(aged, mid=on("0011"), line_state="disconnected"))
        # 0013's line is billed under 0012, a MID it does not hold.
        billing.submit(record(line["0013"], mid=on("0012")))
        # 0014's record is on the queue, not yet sent.
        activities.enqueue(
            session,
            "billing_record",
            asdict(billing_record(line["0014"])),
            target="billing",
            transaction_id=line["0014"].id,
        )


def test_billing_finds_each_kind_of_planted_difference_exactly(services, tmp_path):
    seed(services)
    queued, escalated = count(services, Activity), count(services, Escalation)
    result = run_comparison(services, ["billing"], tmp_path / "r")

    assert findings(services, result.run_id) == EXPECTED
    assert [r.name for r in result.sides] == ["billing"]
    assert result.discrepancies == 10 and result.unreadable == {}
    billing = result.billing
    assert billing is not None and (billing.cas_numbers, billing.switch_lines) == (11, 14)
    assert (count(services, Activity), count(services, Escalation)) == (queued, escalated)

    with result.files["csv"].open() as fh:
        rows = {(r["kind"], r["mid"]): r for r in csv.DictReader(fh)}
    assert {r["side"] for r in rows.values()} == {"billing"}
    other = rows["other_transaction", on("0006")]
    assert (other["transaction"], other["billed_code"]) == (code_of(on("0006")), "60000006")
    assert other["detail"] == "billed on transaction 60000006 (disconnected in CAS)"
    assert rows["other_transaction", on("0007")]["detail"] == (
        "billed on transaction 99990007, unknown to CAS"
    )
    assert rows["extra_in_billing", on("0009")]["detail"] == (
        "billed on transaction 60000009 (denied in CAS)"
    )
    assert rows["extra_in_billing", on("0012")]["detail"] == (
        f"billed on transaction {code_of(on('0013'))} (active in CAS, now on {on('0013')})"
    )
    state = rows["billing_state", on("0005")]
    assert (state["cas_state"], state["side_state"]) == ("suspended", "active")
    esn = rows["billing_esn", on("0003")]
    assert (esn["cas_esn"], esn["side_esn"]) == ("1" + on("0003"), "13899990003")
    assert rows["in_flight", on("0014")]["detail"].startswith("billing_record activity")

    assert "billing records read: 14" in result.summary
    assert "billing " in result.summary and "other tx" in result.summary


def test_repairs_resend_settle_and_flag_and_the_next_run_is_clean(settings, tmp_path):
    services = bootstrap(replace(settings, letters_online=True))
    try:
        seed(services)
        first = run_comparison(services, ["billing"], tmp_path / "r", repair=True)
        with services.db.read() as session:
            done = {
                (f.kind, f.mid): f.repair
                for f in session.scalars(
                    select(ComparisonFinding).where(ComparisonFinding.run_id == first.run_id)
                )
            }
            repairs = session.scalars(
                select(Activity).where(
                    Activity.payload["repair_of_run"].as_integer() == first.run_id
                )
            ).all()
            reasons = set(session.scalars(select(Escalation.reason)))
        assert {k for k, r in done.items() if r == "flagged"} == {
            ("other_transaction", on("0007")),
            ("extra_in_billing", on("0008")),
        }
        assert {k for k, r in done.items() if r == "queued"} == {
            (kind, mid) for _, kind, mid in EXPECTED if kind != "in_flight"
        } - {("other_transaction", on("0007")), ("extra_in_billing", on("0008"))}
        sent = sorted(
            (a.payload["transaction_code"], a.payload["mid"], a.payload["line_state"])
            for a in repairs
            if a.type == "billing_record"
        )
        assert sent == sorted(
            [
                (code_of(on("0002")), on("0002"), "active"),
                (code_of(on("0003")), on("0003"), "active"),
                (code_of(on("0004")), on("0004"), "active"),
                (code_of(on("0005")), on("0005"), "suspended"),
                (code_of(on("0006")), on("0006"), "active"),
                ("60000006", on("0006"), "disconnected"),  # the earlier line's final record
                (code_of(on("0007")), on("0007"), "active"),
                (code_of(on("0013")), on("0013"), "active"),  # once, for 0012 and 0013
            ]
        )
        assert [a.payload["transaction_code"] for a in repairs if a.type == "billing_delete"] == [
            "60000009"
        ]
        assert {
            f"billing bills {on('0007')} on transaction 99990007, unknown to CAS",
            f"billing bills {on('0008')} on transaction 99990008, unknown to CAS",
        } <= reasons
        escalated = count(services, Escalation)

        worker = Worker(services, "comparison-test")
        while worker.run_once():
            pass

        second = run_comparison(services, ["billing"], tmp_path / "r", repair=True)
        assert findings(services, second.run_id) == {
            ("billing", "other_transaction", on("0007")),
            ("billing", "extra_in_billing", on("0008")),
        }
        assert count(services, Escalation) == escalated  # flagged once, not every night
        held = {r.transaction_code: r for r in services.billing.records()}
        assert held[code_of(on("0005"))].line_state == "suspended"
        assert held[code_of(on("0013"))].mid == on("0013")
        assert (held["60000006"].mid, held["60000006"].line_state) == (on("0006"), "disconnected")
        assert "60000009" not in held
        with services.db.read() as session:
            letters = session.scalars(
                select(Activity).where(Activity.type == "welcome_letter")
            ).all()
            first_line = session.scalar(select(Transaction.id).where(Transaction.mid == on("0014")))
        # Only 0014's own activation record writes a letter; a repair's re-send never does.
        assert [a.transaction_id for a in letters] == [first_line]
    finally:
        services.db.dispose()


def test_billing_that_cannot_be_reached_is_unreadable_and_named(services, tmp_path):
    with services.db.transaction() as session:
        activate(session, on("0001"))
    services.billing.set_down(True)
    result = run_comparison(services, ["billing"], tmp_path / "r")
    assert findings(services, result.run_id) == {("billing", "unreadable", "")}
    assert result.unreadable["billing"].startswith("BillingUnavailable")
    assert "billing" in result.summary and "Could not be read" in result.summary


def test_billing_that_breaks_off_confirms_nothing_missing(services, tmp_path, monkeypatch):
    with services.db.transaction() as session:
        lines = {s: activate(session, on(s)) for s in ("0001", "0002", "0003", "0005", "0006")}
        for suffix in ("0001", "0003", "0005"):
            services.billing.submit(record(lines[suffix]))
        services.billing.submit(record(lines["0001"], transaction_code="99990004", mid=on("0004")))
    real = services.billing

    class BreaksOff:
        """The real billing simulator, whose listing fails after its first pages."""

        def __init__(self) -> None:
            self.pages = 0

        def page(self, cursor: str | None = None, limit: int = 500) -> BillingPage:
            self.pages += 1
            if self.pages > 3:
                raise ConnectionResetError("billing hung up")
            return real.page(cursor, limit)

    monkeypatch.setattr(billing_side, "PAGE", 1)
    services.billing = BreaksOff()  # type: ignore[assignment]
    result = run_comparison(services, ["billing"], tmp_path / "r")
    # Read: 0001, 0003 and 0004's stray record, which the cut leaves unfinished (another record
    # of 0004 might have followed): not reported. 0002 was passed over, but a broken listing
    # proves nothing missing; 0005 and 0006 were never reached.
    assert findings(services, result.run_id) == {("billing", "unreadable", on("0004"))}
    why = result.unreadable["billing"]
    assert "billing hung up" in why and f"after 3 records, last MID {on('0004')}" in why
    assert "1 missing not confirmed" in why


def test_cas_compare_billing_alone(services, settings, tmp_path, monkeypatch):
    seed(services)
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CAS_SECRET_KEY", TEST_SECRET)
    outcome = CliRunner().invoke(
        compare,
        [
            "--switch",
            "billing",
            "--report",
            str(tmp_path / "r"),
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert outcome.exit_code == 1, outcome.output
    events = [json.loads(text) for text in outcome.output.splitlines()]
    assert [e["event"] for e in events] == [
        "run_started",
        "billing_started",
        "billing_finished",
        "run_finished",
    ]
    assert events[0]["switches"] == ["billing"]
    assert events[2]["counts"]["missing_in_billing"] == 2
    assert events[-1]["discrepancies"] == 10


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
def test_billing_finds_each_kind_exactly_on_postgres(pg_services, tmp_path):
    seed(pg_services)
    result = run_comparison(pg_services, ["billing"], tmp_path / "r")
    assert findings(pg_services, result.run_id) == EXPECTED
