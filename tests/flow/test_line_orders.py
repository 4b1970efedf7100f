"""Orders on a line by phone: `##` at the menu, the line by its MID, each order read back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.settings import Settings
from activation.store.models import Transaction
from activation.store.orders import Order
from ivr import create_app
from ivr.bootstrap import bootstrap
from ivr.softphone import FlaskTransport, Softphone

from ..lifecycle.fakes import CheckingBilling, FakeSwitch
from ..lifecycle.test_orders import activate
from .conftest import log_on


@pytest.fixture
def line(settings: Settings) -> Iterator[tuple[Any, Softphone, FakeSwitch, str]]:
    """An active line on a fake switch, a worker running, and a softphone to call in."""
    switch, billing = FakeSwitch(), CheckingBilling()
    services = bootstrap(settings, switches=switch, billing=billing)
    billing.services = services
    mid = activate(services)
    stop = threading.Event()
    thread = threading.Thread(target=Worker(services, "w").run, args=(stop, 0.02))
    thread.start()
    phone = Softphone(FlaskTransport(create_app(services=services)), "/voice", pause_scale=0.02)
    yield services, phone, switch, mid
    stop.set()
    thread.join(timeout=30)
    services.db.dispose()


def _to_order_menu(phone: Softphone, mid: str) -> Any:
    call = log_on(phone)
    assert "press pound twice" in call.last_prompt
    call.press("##")
    assert "ten digit number of the line" in call.last_prompt
    call.press(mid + "#")
    assert (
        "belongs to Jane Q Public" in call.last_prompt and "the line is active" in call.last_prompt
    )
    call.press("1")
    assert "To change the handset press 1" in call.last_prompt
    return call


def test_a_plan_change_a_suspension_and_a_restore_by_phone(line):
    services, phone, switch, mid = line
    call = _to_order_menu(phone, mid)
    call.press("2")
    call.press("20#")
    assert "Change the rate plan of 7 1 3, 5 5 5" in call.last_prompt
    assert "to Economy" in call.last_prompt
    heard = call.press("1")
    assert "is placed" in heard and "The order is complete." in heard
    assert switch.features[mid] == "20"
    call.press("1")  # another order on the same line
    call.press("3")
    call.press("2")  # stolen
    assert "Suspend 7 1 3, 5 5 5" in call.last_prompt and "stolen" in call.last_prompt
    call.press("1")
    assert "The order is complete." in call.last_prompt
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.mid == mid))
        assert (tx.status, tx.rate_plan_code, tx.suspend_reason) == ("suspended", "20", "stolen")
    assert mid in switch.suspended
    call.press("1")  # and the customer found the handset: restore the line
    call.press("4")
    assert "Restore 7 1 3, 5 5 5" in call.last_prompt
    call.press("1")
    assert "The order is complete." in call.last_prompt
    assert "Goodbye" in call.press("2") and call.ended
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.mid == mid))
        assert (tx.status, tx.suspend_reason) == ("active", None)
        placed = session.scalars(select(Order.placed_by)).all()
        assert placed == ["agent 1001"] * 3
    assert mid not in switch.suspended


def test_a_handset_swap_is_read_back_and_can_be_declined(line):
    services, phone, switch, mid = line
    call = _to_order_menu(phone, mid)
    call.press("1")
    call.press("13803186458#")
    call.press("2")  # the old handset is lost
    assert "to 1 3 8, 0 3 1 8, 6 4 5 8; the old handset is lost" in call.last_prompt
    call.press("2")  # not this one after all
    assert "To change the handset press 1" in call.last_prompt
    with services.db.read() as session:
        assert session.scalars(select(Order)).all() == []
    call.press("1")
    call.press("13803186458#")
    call.press("1")
    call.press("1")
    assert "The order is complete." in call.last_prompt
    assert switch.held[mid] == "13803186458"


def test_an_unknown_number_twice_goes_to_a_csr(line):
    _services, phone, _switch, _mid = line
    call = log_on(phone)
    call.press("##")
    heard = call.press("2125550000#")
    assert "No line in service has the number 2 1 2, 5 5 5, 0 0 0 0" in heard
    call.press("2125550000#")
    assert call.transfer is not None


def test_a_disconnect_is_said_for_what_it_is_and_refused_twice(line):
    services, phone, switch, mid = line
    call = _to_order_menu(phone, mid)
    call.press("5")
    assert "for good" in call.last_prompt and "45 days" in call.last_prompt
    call.press("1")
    assert "The order is complete." in call.last_prompt
    assert mid not in switch.held
    later = log_on(phone)
    later.press("##")
    assert "No line in service" in later.press(mid + "#")


def test_a_suspended_lines_handset_cannot_be_activated_again(line):
    _services, phone, _switch, mid = line
    call = _to_order_menu(phone, mid)
    call.press("3")
    call.press("1")
    call.press("1")
    assert "The order is complete." in call.last_prompt
    other = log_on(phone)
    other.press("#")
    other.press("2")
    heard = other.press("13803186457#")
    assert "is already active" in heard and other.transfer is None  # one more try
    heard = other.press("13803186457#")
    assert "is already active" in heard and other.transfer is not None
