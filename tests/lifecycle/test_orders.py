"""Orders on a line: each carried out by its switch and billing, one at a time, then applied."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.lifecycle import assignment, numbers, states
from activation.lifecycle.customers import keep_customer
from activation.lifecycle.order_states import (
    ORDER_TRANSITIONS,
    OrderMove,
    OrderRefused,
    OrderStatus,
    move_order,
)
from activation.lifecycle.orders import LineRefused
from activation.service_layer import csr, line_orders
from activation.services import Services
from activation.settings import Settings
from activation.store.models import (
    Activity,
    Agent,
    AuditEntry,
    Escalation,
    Handset,
    Switch,
    TelephoneNumber,
    Transaction,
    utcnow,
)
from activation.store.orders import Order
from ivr.bootstrap import bootstrap

from .fakes import CheckingBilling, FakeSwitch

ESN, NEW_ESN = "13803186457", "13803186458"


@pytest.fixture
def cas(settings: Settings) -> Iterator[tuple[Services, FakeSwitch, CheckingBilling]]:
    switch, billing = FakeSwitch(), CheckingBilling()
    services = bootstrap(settings, switches=switch, billing=billing)
    billing.services = services
    yield services, switch, billing
    services.db.dispose()


def drain(services: Services, waits: bool = False) -> None:
    """Run the queue until nothing is due; with waits, every back-off is waited out."""
    ticks = itertools.count()

    def clock():  # type: ignore[no-untyped-def]
        return utcnow() + timedelta(hours=next(ticks)) if waits else utcnow()

    worker = Worker(services, "test", clock=clock)
    while worker.run_once():
        pass


def activate(services: Services, esn: str = ESN, code: str = "50000001") -> str:
    """A line activated through the real claim and insertion; return its MID."""
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        tx = states.begin(session, code, agent_id, "test")
        tx.esn, tx.customer_kind, tx.rate_plan_code, tx.npa_nxx = esn, "individual", "10", "713555"
        tx.bureau_name, tx.bureau_address = "Jane Q Public", "12 Main Street, Houston, Texas"
        tx.ssn_encrypted, tx.ssn_hash, tx.ssn_last4 = "x", "h", "6789"
        tx.credit_decision, tx.deposit_cents = "approve", 0
        keep_customer(session, tx)
        switch = session.scalar(select(Switch).where(Switch.name == "HOU1"))
        mid = assignment.claim(session, tx, switch, "test")
    drain(services)
    with services.db.read() as session:
        assert session.scalar(select(Transaction.status).where(Transaction.mid == mid)) == "active"
    return mid or ""


def line(services: Services, code: str = "50000001") -> Transaction:
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        session.expunge(tx)
        return tx


def place(services: Services, mid: str, type_: str, **params: str) -> str:
    placed = line_orders.place(
        services, mid, type_, params, channel="console", placed_by="csr dana"
    )
    assert placed.state == "inProgress"
    return placed.code


def test_a_handset_swap_changes_switch_billing_and_stock(cas):
    services, switch, billing = cas
    mid = activate(services)
    code = place(services, mid, "change_esn", esn=NEW_ESN, old_handset="lost")
    assert line(services).esn == ESN  # not before the network has it
    drain(services)
    order = line_orders.find(services, code)
    assert order.state == "completed"
    assert [m.state for m in order.milestones] == ["acknowledged", "inProgress", "completed"]
    assert line(services).esn == NEW_ESN and switch.held[mid] == NEW_ESN
    assert billing.records["50000001"].esn == NEW_ESN and billing.violations == []
    with services.db.read() as session:
        assert session.get(Handset, ESN).status == "lost"
        assert session.get(Handset, NEW_ESN).status == "active"


def test_a_plan_change_reaches_switch_features_and_billing(cas):
    services, switch, billing = cas
    mid = activate(services)
    place(services, mid, "change_plan", rate_plan="30")
    drain(services)
    assert line(services).rate_plan_code == "30"
    assert switch.features[mid] == "30" and billing.records["50000001"].rate_plan == "30"


def test_suspend_then_restore(cas):
    services, switch, billing = cas
    mid = activate(services)
    place(services, mid, "suspend", reason="stolen")
    drain(services)
    tx = line(services)
    assert (tx.status, tx.suspend_reason) == ("suspended", "stolen")
    assert mid in switch.suspended and billing.records["50000001"].line_state == "suspended"
    with pytest.raises(LineRefused, match="suspended"):
        place(services, mid, "suspend", reason="lost")
    place(services, mid, "restore")
    drain(services)
    tx = line(services)
    assert (tx.status, tx.suspend_reason) == ("active", None)
    assert mid not in switch.suspended and billing.records["50000001"].line_state == "active"


def test_disconnect_ages_the_number_before_it_lives_again(cas):
    services, switch, billing = cas
    mid = activate(services)
    assert services.e911.lookup(mid) is not None  # the activation registered the address
    place(services, mid, "disconnect")
    drain(services)
    assert services.e911.lookup(mid) is None
    tx = line(services)
    assert (tx.status, tx.mid, tx.former_mid) == ("disconnected", None, mid)
    assert mid not in switch.held and billing.records["50000001"].line_state == "disconnected"
    with services.db.read() as session:
        number = session.get(TelephoneNumber, mid)
        assert number.status == "aging" and number.transaction_id == tx.id
        disconnected_at = number.aging_until - timedelta(days=45)
    for day, status in ((44, "aging"), (45, "free")):
        with services.db.transaction() as session:
            numbers.release_aged(session, disconnected_at + timedelta(days=day, seconds=1))
            assert session.get(TelephoneNumber, mid).status == status, f"day {day}"
            if status == "aging":  # never handed out meanwhile
                other = session.get_one(Transaction, tx.id)
                assert numbers.reserve(session, "713555", other) != mid
                session.rollback()


def test_one_order_in_flight_per_line(cas):
    services, _switch, _billing = cas
    mid = activate(services)
    first = place(services, mid, "change_plan", rate_plan="20")
    with pytest.raises(LineRefused) as refused:
        place(services, mid, "suspend", reason="lost")
    assert refused.value.kind == "in_flight" and refused.value.other == first
    assert first in str(refused.value)
    drain(services)
    place(services, mid, "suspend", reason="lost")


def test_bad_orders_are_refused_and_leave_nothing(cas):
    services, _switch, _billing = cas
    mid = activate(services)
    activate(services, NEW_ESN, "50000002")
    for type_, params, words in (
        ("change_esn", {"esn": "12345"}, "new ESN"),
        ("change_esn", {"esn": NEW_ESN}, "already active"),
        ("change_esn", {"esn": ESN}, "own already"),
        ("change_plan", {"rate_plan": "99"}, "not available"),
        ("change_plan", {"rate_plan": "10"}, "already"),
        ("suspend", {"reason": "bored"}, "lost, stolen"),
        ("restore", {}, "active"),
        ("rename", {}, "no such order type"),
    ):
        with pytest.raises(LineRefused, match=words):
            line_orders.place(services, mid, type_, params, channel="api", placed_by="p")
    with pytest.raises(LineRefused) as refused:
        line_orders.place(services, "7135559999", "restore", {}, channel="api", placed_by="p")
    assert refused.value.kind == "no_line"
    with services.db.read() as session:
        assert session.scalars(select(Order)).all() == []
        assert session.scalar(select(Activity.id).where(Activity.order_id.is_not(None))) is None


def test_a_refusing_switch_holds_the_order_for_a_csr(cas):
    services, switch, _billing = cas
    mid = activate(services)
    code = place(services, mid, "suspend", reason="non_payment")
    switch.faults.append("deny")
    drain(services)
    order = line_orders.find(services, code)
    assert order.state == "held" and "switch refused" in (order.failure or "")
    assert line(services).status == "active"  # the line did not change
    with services.db.read() as session:
        esc = session.scalar(select(Escalation).where(Escalation.reason.like(f"order {code}%")))
        assert esc is not None and esc.state == "open"
        switch_work = session.scalar(
            select(Activity).where(Activity.type == "switch_change", Activity.order_id.is_not(None))
        )
    # A CSR gives the switch another go: the order is in progress again and completes.
    assert switch_work.state == "done"  # the denial was an answer, not a failure
    with pytest.raises(LineRefused):
        place(services, mid, "restore")  # still the one in flight
    message = line_orders.give_up(services, code, "customer paid", "csr dana")
    assert "given up" in message
    assert line_orders.find(services, code).state == "failed"
    place(services, mid, "suspend", reason="lost")  # the line takes orders again


def _escalations(services: Services) -> list[tuple[str, str, str]]:
    """Each escalation's reason, kind and state."""
    with services.db.read() as session:
        rows = session.execute(
            select(Escalation.reason, Escalation.kind, Escalation.state).order_by(Escalation.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_work_that_fails_for_good_holds_then_a_retry_resumes(cas):
    services, switch, _billing = cas
    mid = activate(services)
    code = place(services, mid, "change_plan", rate_plan="20")
    for _ in range(8):
        switch.faults.append("down")
    drain(services, waits=True)
    assert line_orders.find(services, code).state == "held"
    [(reason, kind, state)] = _escalations(services)
    assert (reason.startswith(f"order {code}: switch gave up"), kind, state) == (
        True,
        "order",
        "open",
    )
    with services.db.read() as session:
        failed = session.scalar(select(Activity.id).where(Activity.state == "failed"))
    csr.retry_activity(services, failed, "switch is back", "supervisor")
    assert line_orders.find(services, code).state == "inProgress"
    assert [state for _, _, state in _escalations(services)] == ["closed"]
    drain(services, waits=True)
    assert line_orders.find(services, code).state == "completed"
    assert switch.features[mid] == "20"


def test_an_activation_record_sent_late_bills_the_line_as_its_open_order_leaves_it(cas):
    services, switch, billing = cas
    billing.down = 1  # the activation's billing record waits for billing to come back
    mid = activate(services)
    code = place(services, mid, "change_plan", rate_plan="20")
    start = utcnow()
    worker = Worker(services, "test", clock=lambda: now)
    switch.faults.extend(["down", "down"])  # the switch change takes a while
    for seconds in (0, 3, 6):  # the order's record goes, then the activation's late one
        now = start + timedelta(seconds=seconds)
        while worker.run_once():
            pass
    assert line_orders.find(services, code).state == "inProgress"
    now = start + timedelta(minutes=5)
    while worker.run_once():
        pass
    assert line_orders.find(services, code).state == "completed"
    assert switch.features[mid] == "20"
    tx = line(services)
    assert billing.records[tx.code].rate_plan == "20"
    assert billing.violations == []


EVERY_PAIR = list(itertools.product(OrderStatus, OrderMove))


@pytest.mark.parametrize(("status", "what"), EVERY_PAIR, ids=[f"{s}-{m}" for s, m in EVERY_PAIR])
def test_every_order_status_and_move(cas, status, what):
    services, _switch, _billing = cas
    with services.db.transaction() as session:
        order = Order(
            code="60000001",
            type="suspend",
            status=status.value,
            params={},
            channel="console",
            placed_by="t",
        )
        session.add(order)
        session.flush()
        target = ORDER_TRANSITIONS.get((status, what))
        if target is None:
            with pytest.raises(OrderRefused):
                move_order(session, order, what, "t")
            assert order.status == status
        else:
            assert move_order(session, order, what, "t", "why") == target
            entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "order"))
            assert (entry.old_status, entry.new_status) == (status, target)


def test_a_handset_is_in_service_when_active_or_held_by_a_line_being_given_one(
    services: Services,
) -> None:
    """One statement asks both: the handset's own status, and whether another transaction
    holds the ESN on a line that is (or is becoming) in service."""
    from activation.lifecycle.orders import handset_in_service
    from tests.pg import statements_sent

    with services.db.transaction() as session:
        agent = session.scalar(select(Agent.id))
        session.add(Handset(esn="13811110001", status="active"))
        session.add(Handset(esn="13811110002", status="in_stock"))
        held = states.begin(session, "60000001", agent, "test")
        held.esn, held.status = "13811110002", "assigning"
        closed = states.begin(session, "60000002", agent, "test")
        closed.esn, closed.status = "13811110003", "closed"
    sent = statements_sent(services.db.engine, "SELECT")
    with services.db.read() as session:
        asked = {
            (esn, besides): handset_in_service(session, esn, besides=besides)
            for esn, besides in (
                ("13811110001", None),
                ("13811110002", None),
                ("13811110002", held.id),  # the line that holds it asks about itself
                ("13811110003", None),
                ("13899999999", None),
            )
        }
    assert asked == {
        ("13811110001", None): True,
        ("13811110002", None): True,
        ("13811110002", held.id): False,
        ("13811110003", None): False,
        ("13899999999", None): False,
    }
    assert len(sent) == 5  # one a question
