"""What every step shares: 0 to a CSR, silence, bad entries, *, resume, retries, signatures."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from activation.call.engine import STEPS
from activation.store.models import Escalation, Transaction
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone, WebhookError

from .conftest import AGENT_PHONE, CAS_NUMBER, log_on
from .test_activation import new_transaction

JANE = [
    *("1001#", "2468#", "#", "2", "13803186457#", "1", "1", "123456789#", "1", "1"),
    *("10#", "1", "713555#"),
]
PATHS = {
    "agent_id": [],
    "pin": JANE[:1],
    "menu": JANE[:2],
    "tx_code": JANE[:3],
    "esn": JANE[:4],
    "esn_confirm": JANE[:5],
    "kind": JANE[:6],
    "ssn": JANE[:7],
    "ssn_confirm": JANE[:8],
    "name_confirm": JANE[:9],
    "rate_plan": JANE[:10],
    "plan_confirm": JANE[:11],
    "npa_nxx": JANE[:12],
    "npa_confirm": JANE[:13],
    "deposit": ["1001#", "2468#", "#", "2", "13803186458#", "1", "1", "234567890#", "1", "1"],
}


@pytest.mark.parametrize("step", sorted(PATHS))
def test_zero_at_any_prompt_reaches_a_csr_with_the_transaction(step, services, worker):
    settings = dataclasses.replace(services.settings, csr_number="+15005550100")
    services.settings = settings
    phone = Softphone(FlaskTransport(create_app(services=services)), "/voice", pause_scale=0.05)
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    for keys in PATHS[step]:
        call.press(keys)
    assert not call.ended, f"the path to {step} ended the call"
    heard = call.press("0")
    assert "customer service representative" in heard
    assert call.ended and call.transfer is not None
    assert call.transfer.target == "+15005550100"
    with services.db.transaction() as session:
        escalation = session.scalar(select(Escalation))
        assert escalation.step == step
        assert escalation.reason == f"{STEPS[step].label}: agent asked for a CSR"
        if escalation.transaction is not None:
            assert f"tx={escalation.transaction.code}" in (call.transfer.url or "")
            assert escalation.transaction.status == "escalated"


def test_silence_re_prompts_then_goes_to_a_csr(phone, services):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    heard = call.silence()
    assert "I did not hear an entry" in heard and "agent I D" in call.last_prompt
    call.silence()
    assert call.transfer is not None
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.reason)) == "agent ID: no input"


def test_garbage_is_refused_then_goes_to_a_csr(phone, services):
    call = log_on(phone)
    new_transaction(call)
    assert "An E S N has eleven digits" in call.press("12#")
    assert "E S N" in call.last_prompt
    call.press("99912345678#")  # manufacturer code above 255
    assert call.transfer is not None
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.reason)) == (
            "ESN: 2 digits, not 11 to 15; then manufacturer code above 255"
        )


def test_star_repeats_the_prompt_without_counting_a_failure(phone):
    call = log_on(phone)
    new_transaction(call)
    for _ in range(3):
        call.press("*#")
        assert "E S N" in call.last_prompt and not call.ended
    assert "An E S N has eleven digits" in call.press("12#")
    assert not call.ended


def test_incomplete_transaction_resumes_where_it_stopped(phone, services, worker, switches):
    call = log_on(phone)
    code = new_transaction(call)
    for keys in JANE[4:10]:
        call.press(keys)
    assert "rate plan" in call.last_prompt
    call.hang_up()

    other = log_on(phone, "1002", "1357")
    assert "no transaction" in other.press(code)

    again = log_on(phone)
    heard = again.press(code)
    assert "is incomplete. Resuming." in heard and "rate plan" in again.last_prompt
    again.press("10#")
    again.press("1")  # the rate plan read back: right
    again.press("713555#")
    again.press("1")
    assert "The new number is 7 1 3" in again.last_prompt
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.status == "active"
    status_call = log_on(phone)
    heard = status_call.press(code)
    assert "is complete." in heard and heard.count("The new number is 7 1 3") == 1


def test_a_webhook_delivered_twice_gets_the_same_answer_and_acts_once(phone, services):
    call = log_on(phone)
    call.press("#")
    first_body = call.last_body
    status, body = call.redeliver()
    assert status == 200 and body == first_body
    with services.db.transaction() as session:
        assert session.scalar(select(func.count(Transaction.id))) == 1
    call.press("2")
    assert "E S N" in call.last_prompt


def test_forged_signature_is_refused(services):
    services.settings = dataclasses.replace(
        services.settings, twilio_auth_token="right-token", public_url="https://cas.example.com"
    )
    app = create_app(services=services)
    good = Softphone(
        FlaskTransport(app),
        "/voice",
        auth_token="right-token",
        public_url="https://cas.example.com",
    )
    call = good.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    assert "agent I D" in call.last_prompt
    call.press("1001#")
    assert "PIN" in call.last_prompt

    forged = Softphone(
        FlaskTransport(app),
        "/voice",
        auth_token="wrong-token",
        public_url="https://cas.example.com",
    )
    with pytest.raises(WebhookError) as refused:
        forged.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    assert refused.value.status == 403
    unsigned = Softphone(FlaskTransport(app), "/voice")
    with pytest.raises(WebhookError) as missing:
        unsigned.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    assert missing.value.status == 403
    wrong_url = Softphone(
        FlaskTransport(app),
        "/voice",
        auth_token="right-token",
        public_url="https://elsewhere.example.com",
    )
    with pytest.raises(WebhookError):
        wrong_url.dial(from_=AGENT_PHONE, to=CAS_NUMBER)


def test_healthz_answers_when_the_database_does(app):
    assert app.test_client().get("/healthz").status_code == 200
