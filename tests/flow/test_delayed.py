"""A switch that does not answer in time: the agent hears 'delayed' and nothing is lost."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select

from activation.store.models import Activity, Transaction
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone

from .conftest import log_on
from .test_activation import new_transaction, through_credit


def _wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_silent_switch_means_delayed_then_call_in_later_hears_the_number(
    services, worker, switches
):
    services.settings = dataclasses.replace(services.settings, switch_deadline=2)
    phone = Softphone(
        FlaskTransport(create_app(services=services)), "/voice", pause_scale=0.05, max_redirects=400
    )
    switches["HOU1"].control("silent 60")
    call = log_on(phone)
    code = new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    heard = call.press("1")
    assert "Assigning the new number" in heard
    assert "The number assignment is delayed" in call.last_prompt
    heard = call.press("2")
    assert "call in later with transaction code" in heard and call.ended

    def insert_state() -> str:
        with services.db.transaction() as session:
            return session.scalar(select(Activity.state).where(Activity.type == "switch_insert"))

    assert insert_state() in ("pending", "running")
    switches["HOU1"].control("clear")
    with services.db.transaction() as session:  # no need to wait out the back-off
        for activity in session.scalars(select(Activity).where(Activity.state == "pending")):
            activity.next_try_at = activity.created_at
    _wait_for(lambda: insert_state() == "done")

    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.status, tx.step) == ("active", "mid")  # its final step, not "delayed"
        mid = tx.mid
    assert [s.mid for s in switches["HOU1"].subscribers()] == [mid]

    later = log_on(phone)
    heard = later.press(code)
    spoken = " ".join(mid[:3]) + ", " + " ".join(mid[3:6]) + ", " + " ".join(mid[6:])
    assert "is complete." in heard and heard.count(spoken) == 1


def test_retry_now_takes_the_number_once_the_switch_answers(services, worker, switches):
    services.settings = dataclasses.replace(services.settings, switch_deadline=2)
    phone = Softphone(
        FlaskTransport(create_app(services=services)), "/voice", pause_scale=0.05, max_redirects=400
    )
    switches["HOU1"].control("silent 60")
    call = log_on(phone)
    new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    assert "delayed" in call.last_prompt
    switches["HOU1"].control("clear")

    def attempt_over() -> bool:
        with services.db.transaction() as session:
            return (
                session.scalar(select(Activity.state).where(Activity.type == "switch_insert"))
                != "running"
            )

    _wait_for(attempt_over)  # the attempt caught in the silence ends at its deadline
    call.press("1")
    assert "The new number is 7 1 3, 5 5 5, 0 0 0 1" in call.last_prompt
    assert [s.mid for s in switches["HOU1"].subscribers()] == ["7135550001"]
