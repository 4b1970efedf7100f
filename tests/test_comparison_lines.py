"""A line's life against the comparison: states, completed changes, and orders in flight.

Lines are planted in CAS and on a switch simulator process (HOU1), with billing's records in
the in-process billing simulator. A change CAS completed that the switch does not hold is a
discrepancy; one whose order is still open (its switch work done or not) is in flight, on the
switch and in billing alike, for every order type and for the work outside orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select, update

from activation.comparison.run import run_comparison
from activation.jobs.line_change import SwitchChange
from activation.jobs.worker import Worker
from activation.lifecycle.assignment import billing_record
from activation.queue import activities
from activation.service_layer import line_orders
from activation.services import Services
from activation.settings import Settings
from activation.store.comparison import ComparisonFinding
from activation.store.models import Activity, Escalation, Switch, TelephoneNumber, Transaction
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap
from switch_adapters.port import Subscriber

from .conftest import TEST_SECRET
from .pg import needs_postgres, private_database
from .test_comparison_run import (
    HOU1,
    Switches,
    activate,
    bill_every_line,
    count,
    esn,
    findings,
)

NEW_ESN = "13803186458"  # the handset a change_esn order gives
CHANGED_ESN = "13803186459"  # the handset a completed change gave


@pytest.fixture
def sims(services: Services, tmp_path: Path) -> Iterator[Switches]:
    with ExitStack() as stack:
        yield Switches(services, tmp_path, stack)


def on(suffix: str) -> str:
    return HOU1 + suffix


# suffix: (what CAS holds, what the switch holds)
COMPLETED = {
    "0011": "ESN changed in CAS (order completed), the old handset on the switch",
    "0012": "plan changed in CAS, the old features on the switch",
    "0013": "suspended in CAS, active on the switch",
    "0014": "restored in CAS, still suspended on the switch",
}
# An order of each type open on a line; the switch already holds what it asks.
ORDERS = {
    "0021": ("change_esn", {"esn": NEW_ESN}),
    "0022": ("change_plan", {"rate_plan": "30"}),
    "0023": ("suspend", {"reason": "stolen"}),
    "0024": ("restore", {}),
    "0025": ("disconnect", {}),
}

EXPECTED = {
    ("HOU1", "esn_mismatch", on("0011")),
    ("HOU1", "feature_mismatch", on("0012")),
    ("HOU1", "state_mismatch", on("0013")),
    ("HOU1", "state_mismatch", on("0014")),
    *{("HOU1", "in_flight", on(s)) for s in ORDERS},
    ("HOU1", "in_flight", on("0031")),  # a denied MID's removal under way
    ("HOU1", "in_flight", on("0032")),  # a repair's state change under way
    *{("billing", "in_flight", on(s)) for s in ORDERS},
    ("billing", "in_flight", on("0031")),  # its record's withdrawal under way
}


def seed(services: Services, switches: Switches) -> None:
    with services.db.transaction() as session:
        switch_id = session.scalar(select(Switch.id).where(Switch.name == "HOU1"))
        activate(session, on("0001"))  # in order everywhere
        activate(session, on("0011"), handset=CHANGED_ESN)
        activate(session, on("0012"), plan="20")
        activate(session, on("0013"), status="suspended")
        activate(session, on("0014"))
        for suffix in ORDERS:
            activate(session, on(suffix), status="suspended" if suffix == "0024" else "active")
        # A MID denied on the call-back: blocked until the switch and billing let it go, its
        # record (sent when it was active) still in billing.
        denied = activate(session, on("0031"))
        services.billing.submit(billing_record(denied))
        denied.status = "denied"
        session.execute(
            update(TelephoneNumber)
            .where(TelephoneNumber.mid == on("0031"))
            .values(status="blocked")
        )
        activities.enqueue(
            session,
            "switch_delete",
            {"switch_id": switch_id, "mid": on("0031")},
            target="HOU1",
            transaction_id=denied.id,
        )
        activities.enqueue(
            session,
            "billing_delete",
            {"transaction_code": denied.code},
            target="billing",
            transaction_id=denied.id,
        )
        # A suspended line whose switch change a repair has queued already.
        repaired = activate(session, on("0032"), status="suspended")
        activities.enqueue(
            session,
            "switch_change",
            {"switch_id": switch_id, "mid": on("0032"), "command": "suspend", "repair_of_run": 0},
            target="HOU1",
            transaction_id=repaired.id,
        )
    bill_every_line(services)  # billing holds every line as it stands in CAS
    for suffix, (type_, params) in ORDERS.items():
        placed = line_orders.place(
            services, on(suffix), type_, params, channel="console", placed_by="csr dana"
        )
        assert placed.state == "inProgress"

    def held(suffix: str, handset: str = "", plan: str = "10", state: str = "active") -> Subscriber:
        return Subscriber(on(suffix), handset or esn(on(suffix)), plan, state)

    switches.start(
        "HOU1",
        [
            held("0001"),
            held("0011"),  # the old handset
            held("0012", plan="10"),
            held("0013"),
            held("0014", state="suspended"),
            held("0021", handset=NEW_ESN),  # the switch did its part of each order already
            held("0022", plan="30"),
            held("0023", state="suspended"),
            held("0024"),
            # 0025 is off the switch: the disconnect's delete is done, the order is not
            held("0031"),
            held("0032"),
        ],
    )


def test_completed_changes_are_found_and_orders_in_flight_are_not(services, sims, tmp_path):
    seed(services, sims)
    result = run_comparison(services, ["HOU1", "billing"], tmp_path / "r")
    assert findings(services, result.run_id) == EXPECTED
    assert result.discrepancies == 4 and result.unreadable == {}
    with services.db.read() as session:
        details = dict(
            session.execute(
                select(ComparisonFinding.mid, ComparisonFinding.detail).where(
                    ComparisonFinding.switch_name == "HOU1",
                    ComparisonFinding.kind == "in_flight",
                )
            ).all()
        )
        state = session.scalars(
            select(ComparisonFinding).where(ComparisonFinding.mid == on("0013"))
        ).one()
    assert (
        details[on("0021")].startswith("order ")
        and "(change_esn, inProgress)" in (details[on("0021")])
    )
    assert details[on("0031")].startswith("switch_delete activity")
    assert (
        details[on("0032")].startswith("switch_change activity")
        and "(suspend)" in (details[on("0032")])
    )
    assert (state.cas_state, state.switch_state) == ("suspended", "active")


def test_a_state_repair_brings_the_switch_to_cas_and_the_next_run_is_clean(
    services, sims, tmp_path
):
    seed(services, sims)
    first = run_comparison(services, ["HOU1", "billing"], tmp_path / "r", repair=True)
    with services.db.read() as session:
        queued = {
            a.payload["mid"]: a.payload["command"]
            for a in session.scalars(
                select(Activity).where(
                    Activity.type == "switch_change",
                    Activity.payload["repair_of_run"].as_integer() == first.run_id,
                )
            )
        }
        reasons = set(session.scalars(select(Escalation.reason)))
    assert queued == {on("0013"): "suspend", on("0014"): "restore"}
    assert {
        f"HOU1 has another ESN on {on('0011')}",
        f"HOU1 has other features on {on('0012')}",
    } <= (reasons)
    escalated = count(services, Escalation)

    worker = Worker(services, "comparison-test")
    while worker.run_once():
        pass

    second = run_comparison(services, ["HOU1", "billing"], tmp_path / "r", repair=True)
    # The states are mended; the orders completed (CAS now holds what the switch did); the
    # denied MID is gone from both; what a CSR must settle is still there, flagged once.
    assert findings(services, second.run_id) == {
        ("HOU1", "esn_mismatch", on("0011")),
        ("HOU1", "feature_mismatch", on("0012")),
    }
    assert count(services, Escalation) == escalated
    held = {s.mid: s for s in sims.started["HOU1"].subscribers()}
    assert (held[on("0013")].state, held[on("0014")].state) == ("suspended", "active")
    assert on("0031") not in held and on("0025") not in held


def test_a_state_repair_the_line_no_longer_wants_is_withdrawn(services, sims, tmp_path):
    with services.db.transaction() as session:
        activate(session, on("0013"), status="suspended")
    bill_every_line(services)
    sims.start("HOU1", [Subscriber(on("0013"), esn(on("0013")), "10")])
    run_comparison(services, ["HOU1"], tmp_path / "r", repair=True)
    # Before the worker gets to it, a CSR's restore order goes through in CAS.
    with services.db.transaction() as session:
        session.execute(
            update(Transaction).where(Transaction.mid == on("0013")).values(status="active")
        )
    worker = Worker(services, "comparison-test")
    while worker.run_once():
        pass
    with services.db.read() as session:
        change = session.scalars(select(Activity).where(Activity.type == "switch_change")).one()
        assert change.state == "done"
    assert sims.started["HOU1"].subscribers()[0].state == "active"  # left alone


def test_a_state_repair_the_switch_refuses_goes_to_a_csr(services):
    with services.db.transaction() as session:
        tx = activate(session, on("0013"), status="suspended")
        switch_id = session.scalar(select(Switch.id).where(Switch.name == "HOU1"))
        change = activities.enqueue(
            session,
            "switch_change",
            {"switch_id": switch_id, "mid": on("0013"), "command": "suspend", "repair_of_run": 3},
            target="HOU1",
            transaction_id=tx.id,
        )
    with services.db.transaction() as session:
        refused = {"outcome": "denied", "code": "SNVS", "reason": "barring not provisioned"}
        SwitchChange().apply(session, session.get_one(Activity, change.id), refused, services)
    with services.db.transaction() as session:
        SwitchChange().failed(session, session.get_one(Activity, change.id), "LineDown: no answer")
    with services.db.read() as session:
        escalations = session.execute(
            select(Escalation.reason, Escalation.kind).where(Escalation.transaction_id == tx.id)
        ).all()
        assert session.get_one(Transaction, tx.id).status == "suspended"  # CAS's state stands
    assert [tuple(e) for e in escalations] == [
        ("repair refused: barring not provisioned", "comparison"),
        ("repair gave up: LineDown: no answer", "comparison"),
    ]


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
def test_completed_changes_and_orders_in_flight_on_postgres(pg_services, tmp_path):
    with ExitStack() as stack:
        seed(pg_services, Switches(pg_services, tmp_path, stack))
        result = run_comparison(pg_services, ["HOU1", "billing"], tmp_path / "r")
        assert findings(pg_services, result.run_id) == EXPECTED
