"""The call-back's rules, one worker step at a time: what each call status does to it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from activation.followup import callbacks
from activation.jobs.worker import Worker
from activation.store.followup import Callback
from activation.store.models import Activity, Agent, Escalation, utcnow
from ivr.telephony import TwilioTelephony

from .conftest import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, active_transaction


@pytest.fixture
def placed(services, fake_twilio):  # type: ignore[no-untyped-def]
    """An active transaction whose call-back the worker has placed; returns (worker, call)."""
    services.settings = replace(services.settings, public_url="https://cas.example")
    services.telephony = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, fake_twilio.url)
    with services.db.transaction() as session:
        tx = active_transaction(session, "40000001", "7135550001")
        assert callbacks.request(session, tx) is not None
        assert callbacks.request(session, tx) is None  # once per transaction
    worker = Worker(services, "rules-worker")
    assert worker.run_once()
    return worker, fake_twilio.calls[0]


def _callback(services) -> Activity:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        return session.scalars(select(Activity).where(Activity.type == "callback")).one()


def test_placing_waits_for_the_call_status(services, placed):  # type: ignore[no-untyped-def]
    worker, call = placed
    activity = _callback(services)
    assert activity.state == "waiting" and activity.result["call_sid"] == call.sid
    assert not worker.run_once()  # a waiting call-back is nobody's work
    assert call.url == "https://cas.example/voice/callback?tx=40000001"
    assert callbacks.call_status(services.db, call.sid, "ringing") == "ringing"
    assert _callback(services).state == "waiting"


@pytest.mark.parametrize("status", ["no-answer", "failed", "canceled", "busy"])
def test_an_unanswered_call_back_is_retried_with_back_off(services, placed, status):  # type: ignore[no-untyped-def]
    assert callbacks.call_status(services.db, placed[1].sid, status) == "pending"
    activity = _callback(services)
    assert activity.last_error == f"call {status}"
    assert timedelta(seconds=110) < activity.next_try_at - utcnow() <= timedelta(seconds=120)
    # Twilio may deliver the same report again: it changes nothing.
    assert callbacks.call_status(services.db, placed[1].sid, status) == "repeated"
    assert _callback(services).attempts == 1


def test_answered_but_nobody_logged_on_is_retried(services, placed):  # type: ignore[no-untyped-def]
    assert callbacks.call_status(services.db, placed[1].sid, "completed") == "pending"
    assert _callback(services).last_error == "call answered, nobody logged on"


def test_a_status_that_never_comes_is_a_failed_attempt_for_the_sweep(services, placed):  # type: ignore[no-untyped-def]
    assert callbacks.sweep(services.db) == {"retried": 0, "queued": 0}
    later = utcnow() + callbacks.REPORT_WINDOW + timedelta(seconds=1)
    assert callbacks.sweep(services.db, now=later) == {"retried": 1, "queued": 0}
    activity = _callback(services)
    assert activity.state == "pending" and activity.last_error == "no call status reported"


def test_after_its_last_attempt_a_call_back_goes_to_a_csr(services, placed, fake_twilio):  # type: ignore[no-untyped-def]
    worker, call = placed
    for attempt in range(1, 5):
        assert callbacks.call_status(services.db, call.sid, "no-answer") in ("pending", "failed")
        if attempt < 4:
            with services.db.transaction() as session:
                session.scalars(select(Activity)).one().next_try_at = utcnow()
            assert worker.run_once()
            call = fake_twilio.calls[attempt]
    activity = _callback(services)
    assert (activity.state, activity.attempts) == ("failed", 4)
    with services.db.transaction() as session:
        reasons = session.scalars(select(Escalation.reason)).all()
        assert reasons == ["call-back never reached the agent"]
        assert len(session.scalars(select(Callback)).all()) == 4


def test_an_unknown_call_is_ignored(services):  # type: ignore[no-untyped-def]
    assert callbacks.call_status(services.db, "CA" + "9" * 32, "completed") == "unknown"


def test_without_a_public_url_the_call_back_waits(services, fake_twilio):  # type: ignore[no-untyped-def]
    services.telephony = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, fake_twilio.url)
    with services.db.transaction() as session:
        callbacks.request(session, active_transaction(session, "40000002", "7135550002"))
    assert Worker(services).run_once()
    activity = _callback(services)
    assert activity.state == "pending" and "CAS_PUBLIC_URL" in activity.last_error
    assert fake_twilio.calls == []


def test_a_call_back_that_cannot_be_placed_goes_to_a_csr_after_its_last_attempt(
    services, fake_twilio
):  # type: ignore[no-untyped-def]
    services.telephony = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, fake_twilio.url)
    with services.db.transaction() as session:
        callbacks.request(session, active_transaction(session, "40000004", "7135550004"))
    worker = Worker(services)
    for _ in range(4):
        with services.db.transaction() as session:
            session.scalars(select(Activity)).one().next_try_at = utcnow()
        assert worker.run_once()
    activity = _callback(services)
    assert (activity.state, activity.attempts) == ("failed", 4)
    with services.db.read() as session:
        assert session.scalars(select(Escalation.reason)).all() == [
            "call-back could not be placed: CallbackNotConfigured: CAS_PUBLIC_URL is not set"
        ]
    assert fake_twilio.calls == []


def test_an_agent_without_a_call_back_number_is_handed_to_a_csr(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, "40000003", "7135550003", agent="1002")
        assert session.get(Agent, tx.agent_id).callback_number == ""
        assert callbacks.request(session, tx) is None
        assert session.scalar(select(Escalation.reason)) == (
            "call-back requested; agent has no number"
        )
