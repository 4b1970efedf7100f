"""Call-backs end to end: CAS over HTTP, switch simulators as processes, Twilio's API faked.

The agent's phone is the softphone: it dials in, and later answers the call CAS asked the fake
Twilio API to place, by fetching that call's Url as Twilio would. The fake then reports the
call's end to CAS's status callback, signed as Twilio signs it.
"""

from __future__ import annotations

from sqlalchemy import select

from activation.followup import callbacks
from activation.queue import activity_log
from activation.store.followup import Callback
from activation.store.models import (
    Activity,
    AuditEntry,
    Handset,
    TelephoneNumber,
    Transaction,
    utcnow,
)
from switch_adapters.port import Subscriber
from tests.flow.conftest import log_on
from tests.flow.test_activation import new_transaction, through_credit

from .conftest import CALLER_ID, phone_at, wait_for

AGENT_PHONE = "+15005550006"


def spoken(number: str) -> str:
    """Say a number as the prompts do: digit by digit (a MID grouped 3-3-4)."""
    if len(number) == 10:
        return f"{' '.join(number[:3])}, {' '.join(number[3:6])}, {' '.join(number[6:])}"
    return " ".join(number)


def _activity(services, type_: str) -> Activity:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        return session.scalars(select(Activity).where(Activity.type == type_)).one()


def _hurry(services, type_: str) -> bool:  # type: ignore[no-untyped-def]
    """Make a pending activity due now (no waiting out its back-off); tell if it is done."""
    with services.db.transaction() as session:
        activity = session.scalars(
            select(Activity).where(Activity.type == type_).order_by(Activity.id.desc())
        ).first()
        if activity is not None and activity.state == "pending":
            activity.next_try_at = utcnow()
        return activity is not None and activity.state == "done"


def _ringing(services, fake_twilio, count: int = 1):  # type: ignore[no-untyped-def]
    """Wait for call number `count` to be placed and CAS to know its call SID."""
    placed = fake_twilio.wait_for_call(count, timeout=30)

    def known() -> bool:
        with services.db.transaction() as session:
            return (
                session.scalar(select(Callback.id).where(Callback.call_sid == placed.sid))
                is not None
            )

    wait_for(known, 30, "the call-back's call SID")
    return placed


def ask_for_a_call_back(services, switches, cas) -> str:  # type: ignore[no-untyped-def]
    """Activate with the switch silent, key 3 at 'delayed', bring the switch back; the code."""
    switches["HOU1"].control("silent 30")
    call = log_on(phone_at(cas))
    code = new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    assert "Assigning the new number" in call.press("1")
    assert "The number assignment is delayed" in call.last_prompt
    heard = call.press("3")
    assert "You will be called back" in heard and call.ended
    switches["HOU1"].control("clear")  # the switch is back
    wait_for(lambda: _hurry(services, "switch_insert"), 60, "the insertion")
    return code


def test_silent_switch_then_call_back_announces_the_mid_and_the_agent_accepts(
    services,
    switches,
    fake_twilio,
    cas,
    run_worker,
):
    run_worker()
    code = ask_for_a_call_back(services, switches, cas)
    with services.db.transaction() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        assert tx.status == "active" and tx.callback_requested
        mid = tx.mid
    assert switches["HOU1"].subscribers() == [Subscriber(mid, "13803186457", "10")]

    placed = _ringing(services, fake_twilio)
    assert (placed.to, placed.from_) == (AGENT_PHONE, CALLER_ID)
    assert placed.url == f"{cas}/voice/callback?tx={code}"
    assert placed.status_callback == f"{cas}/voice/callback-status"
    assert fake_twilio.report(placed.sid, "ringing") == 204

    agent = phone_at(cas).answer(url=placed.url, from_=placed.from_, to=placed.to)
    assert f"calling back about transaction {spoken(code)}" in " ".join(agent.heard)
    assert "agent I D" in agent.last_prompt
    agent.press("1001#")
    agent.press("2468#")
    assert f"The number for transaction {spoken(code)} is {spoken(mid)}." in agent.last_prompt
    heard = agent.press("1")
    assert f"The number {spoken(mid)} is confirmed for your customer" in heard and agent.ended
    assert _activity(services, "callback").state == "waiting"  # until Twilio says it ended
    assert fake_twilio.report(placed.sid, "completed", duration=40) == 204

    callback = _activity(services, "callback")
    assert callback.state == "done" and callback.result == {"outcome": "accepted"}
    with services.db.transaction() as session:
        row = session.scalars(select(Callback)).one()
        assert (row.call_sid, row.status, row.outcome) == (placed.sid, "completed", "accepted")
        log = activity_log.for_transaction(session, code)
    outcomes = [(line.type, line.outcome) for line in log]
    assert ("switch_insert", "retry") in outcomes  # the attempts lost in the silence
    assert outcomes[-2:] == [("callback", "waiting"), ("callback", "ok")]
    assert [line.outcome for line in log if line.type == "switch_insert"][-1] == "ok"


def test_a_busy_call_back_is_retried_and_a_denied_mid_is_taken_off_the_switch(
    services,
    switches,
    fake_twilio,
    cas,
    run_worker,
):
    run_worker()
    call = log_on(phone_at(cas))
    code = new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    assert "The new number is" in call.last_prompt
    call.press("2")
    with services.db.transaction() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        mid = tx.mid
        # The agent keyed 3 just as the switch answered: only the call-back sweep sees it.
        tx.callback_requested = True
    assert callbacks.sweep(services.db) == {"retried": 0, "queued": 1}

    first = _ringing(services, fake_twilio, 1)
    assert fake_twilio.report(first.sid, "busy") == 204
    retry = _activity(services, "callback")
    assert (retry.state, retry.attempts, retry.last_error) == ("pending", 1, "call busy")
    assert (retry.next_try_at - utcnow()).total_seconds() > 60  # back-off, not at once

    _hurry(services, "callback")
    second = _ringing(services, fake_twilio, 2)
    agent = phone_at(cas).answer(url=second.url, from_=second.from_, to=second.to)
    agent.press("1001#")
    heard = agent.press("1111#")
    assert "do not match" in heard and "agent I D" in agent.last_prompt  # the log-on rules
    agent.press("1001#")
    agent.press("2468#")
    assert spoken(mid) in agent.last_prompt
    heard = agent.press("2")
    assert f"The number {spoken(mid)} is denied and will be released" in heard
    assert fake_twilio.report(second.sid, "completed", duration=55) == 204

    wait_for(lambda: _activity(services, "switch_delete").state == "done", 30, "the deletion")
    assert switches["HOU1"].subscribers() == []
    with services.db.transaction() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        assert (tx.status, tx.mid) == ("denied", None)
        assert session.get(TelephoneNumber, mid).status == "free"
        assert session.get(Handset, "13803186457").status == "in_stock"
        denied = session.scalars(select(AuditEntry).where(AuditEntry.new_status == "denied")).one()
        assert (denied.entity_id, denied.actor) == (code, "agent")
        log = activity_log.for_transaction(session, code)
        by_switch = activity_log.for_switch(session, "HOU1")
    callback_log = [(line.outcome, line.answer) for line in log if line.type == "callback"]
    assert callback_log[1] == ("retry", "call busy")
    assert callback_log[-1] == ("ok", "call completed, MID denied")
    assert [line.type for line in by_switch][:1] == ["switch_delete"]
    assert _activity(services, "callback").result == {"outcome": "denied"}


def test_the_status_callback_needs_twilios_signature(services, cas):  # type: ignore[no-untyped-def]
    import requests

    reply = requests.post(
        f"{cas}/voice/callback-status",
        data={"CallSid": "CA" + "0" * 32, "CallStatus": "completed"},
        timeout=5,
    )
    assert reply.status_code == 403
