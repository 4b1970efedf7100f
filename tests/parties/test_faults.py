"""Each party misbehaving as a simulator process: down, slow past the deadline, garbage.

Billing and E911 work waits in the activity queue: retried, then failed and visible to a
CSR, and sent exactly once when a CSR retries it after the party is back. The PVS and the
bureau, asked while a caller waits, send the caller to a CSR. Nothing is left half-done.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from activation.call import customer
from activation.jobs.worker import Worker
from activation.lifecycle.assignment import queue_billing, queue_e911
from activation.parties.billing import HttpBilling, billing_client
from activation.parties.bureau import HttpBureau, bureau_client
from activation.parties.e911 import HttpE911, e911_client
from activation.parties.ports import BillingRecord, E911Registration
from activation.parties.pvs import HttpPVS, pvs_client
from activation.service_layer import csr
from activation.store.models import Activity, ActivityAttempt, Escalation, Handset, Transaction
from tests.flow.conftest import app, log_on, phone  # noqa: F401  (the call-flow fixtures)
from tests.flow.test_activation import new_transaction, through_credit
from tests.queue.conftest import Clock, active_transaction, wait_for

from .conftest import TOKEN

DEADLINE = 0.5
FAULTS = {
    "down": ("down", "HTTP 503"),
    "slow": ("slow 2", "no answer"),  # within the adapter's deadline, or the call's
    "garbage": ("garbage", "not JSON"),
}
ESN = "13803186457"


@pytest.fixture(params=sorted(FAULTS))
def fault(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(the fault command, what the adapter's error says of it)."""
    return FAULTS[request.param]


@pytest.fixture
def clear(sims) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every simulator behaves again after the test, whatever it did."""
    yield
    for sim in sims.values():
        sim.control("clear")


def _drain_until_failed(services, activity_id: int) -> Activity:  # type: ignore[no-untyped-def]
    """Run the queue on a clock of its own until the activity has spent its attempts."""
    clock = Clock()
    worker = Worker(services, "fault-test", clock=clock)
    for _ in range(10):
        worker.drain()
        clock.advance(3600)
        with services.db.read() as session:
            activity = session.get_one(Activity, activity_id)
            if activity.state == "failed":
                return activity
    raise AssertionError(f"activity {activity_id} is {activity.state}")


def _queued(services, type_: str, code: str, mid: str) -> int:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, code, mid)
        (queue_billing if type_ == "billing_record" else queue_e911)(session, tx)
        activity = session.scalars(select(Activity).where(Activity.type == type_)).one()
        activity.max_attempts = 3  # the rule's 50 would make the same point, slower
        return activity.id


def _visible_failure(services, activity_id: int, says: str, error: str) -> None:  # type: ignore[no-untyped-def]
    activity = _drain_until_failed(services, activity_id)
    assert activity.attempts == 3
    assert error in (activity.last_error or "") and says in (activity.last_error or "")
    with services.db.read() as session:
        outcomes = session.scalars(
            select(ActivityAttempt.outcome)
            .where(ActivityAttempt.activity_id == activity_id)
            .order_by(ActivityAttempt.id)
        ).all()
    assert outcomes == ["retry", "retry", "failed"]


def _csr_retries(services, activity_id: int) -> None:  # type: ignore[no-untyped-def]
    # What the console's Retry button does: one more attempt, now.
    csr.retry_activity(services, activity_id, "party back up", "csr:kim")
    Worker(services, "after-fault").drain()
    with services.db.read() as session:
        assert session.get_one(Activity, activity_id).state == "done"


def test_billing_misbehaving_leaves_the_record_failed_in_the_queue_then_sent_once(
    services, sims, fault, clear
):  # type: ignore[no-untyped-def]
    command, says = fault
    billing = HttpBilling(billing_client(sims["billing"].url, DEADLINE, token=TOKEN))
    services.billing = billing
    code = {"down": "61000001", "slow": "61000002", "garbage": "61000003"}[command.split()[0]]
    activity_id = _queued(services, "billing_record", code, f"71355561{code[-2:]}")
    sims["billing"].control(command)
    _visible_failure(services, activity_id, says, "BillingUnavailable")
    sims["billing"].control("clear")
    # Down or garbled: billing did nothing. Slow: it filed the record and answered late.
    held = billing.inquire(code)
    assert (held is not None) == command.startswith("slow")
    _csr_retries(services, activity_id)
    assert billing.inquire(code) == BillingRecord(
        code,
        f"71355561{code[-2:]}",
        ESN,
        "20",
        "Jane Q Public",
        "12 Main Street, Houston, Texas 77002",
        0,
        "",
    )


def test_e911_misbehaving_leaves_the_registration_failed_in_the_queue_then_made_once(
    services, sims, fault, clear
):  # type: ignore[no-untyped-def]
    command, says = fault
    e911 = HttpE911(e911_client(sims["e911"].url, DEADLINE, token=TOKEN))
    services.e911 = e911
    code = {"down": "62000001", "slow": "62000002", "garbage": "62000003"}[command.split()[0]]
    mid = f"83255562{code[-2:]}"
    activity_id = _queued(services, "e911_register", code, mid)
    sims["e911"].control(command)
    _visible_failure(services, activity_id, says, "E911Unavailable")
    sims["e911"].control("clear")
    assert (e911.lookup(mid) is not None) == command.startswith("slow")
    _csr_retries(services, activity_id)
    with services.db.read() as session:
        result = session.get_one(Activity, activity_id).result
    # After a late answer the retry asks first and finds it made: it is not sent again.
    assert result == (
        {"outcome": "registered", "asked_first": True}
        if command.startswith("slow")
        else {"outcome": "registered"}
    )
    assert e911.lookup(mid) == E911Registration(
        mid, code, "Jane Q Public", "12 Main Street, Houston, Texas 77002"
    )


def test_a_pvs_misbehaving_sends_the_waiting_caller_to_a_csr(
    phone,  # noqa: F811
    services,
    sims,
    fault,
    clear,
):  # type: ignore[no-untyped-def]
    command, says = fault
    services.settings = replace(services.settings, pvs_deadline=DEADLINE)
    services.pvs = HttpPVS(pvs_client(sims["pvs"].url, DEADLINE, token=TOKEN))
    sims["pvs"].control(command)
    call = log_on(phone)
    code = new_transaction(call)
    started = time.monotonic()
    heard = call.press(ESN + "#")
    assert time.monotonic() - started < 5  # the deadline, not the PVS, decides the wait
    assert call.transfer is not None and "cannot be checked right now" in heard
    with services.db.read() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        reason = session.scalars(select(Escalation.reason)).one()
        assert (tx.status, tx.esn) == ("escalated", ESN)
        assert reason.startswith("PVS did not answer") and says in reason
        assert session.scalars(select(Activity)).all() == []  # nothing else was started
        assert session.get(Handset, ESN).status == "in_stock"


def test_a_bureau_misbehaving_sends_the_waiting_caller_to_a_csr_and_fails_the_check_visibly(
    phone,  # noqa: F811
    services,
    sims,
    worker,
    fault,
    clear,
    monkeypatch,
):  # type: ignore[no-untyped-def]
    command, says = fault
    # The caller's patience, shortened as the softphone's pauses are; the worker keeps real
    # time: three attempts, one and five seconds apart.
    monkeypatch.setattr(customer, "CREDIT_PATIENCE_SECONDS", 2)
    services.bureau = HttpBureau(bureau_client(sims["bureau"].url, DEADLINE, token=TOKEN))
    sims["bureau"].control(command)
    call = log_on(phone)
    code = new_transaction(call)
    through_credit(call)
    assert call.transfer is not None
    with services.db.read() as session:
        reasons = session.scalars(select(Escalation.reason)).all()
    assert reasons == ["credit bureau not answering"]

    def check_failed() -> bool:
        with services.db.read() as session:
            check = session.scalars(select(Activity).where(Activity.type == "credit_check")).one()
            return check.state == "failed"

    wait_for(check_failed, 30, "the credit check to spend its attempts")
    with services.db.read() as session:
        check = session.scalars(select(Activity)).one()  # the credit check, nothing after it
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        assert check.attempts == 3 and "BureauUnavailable" in (check.last_error or "")
        assert says in (check.last_error or "")
        assert tx.status == "escalated"
        assert (tx.bureau_name, tx.credit_score, tx.credit_decision) == (None, None, None)
