"""What the agent hears, as a person listening to every prompt would want it."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from activation.store.models import Escalation, Transaction
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone

from .conftest import AGENT_PHONE, CAS_NUMBER, log_on
from .test_activation import new_transaction, through_credit


def _to_rate_plan(call) -> None:  # type: ignore[no-untyped-def]
    through_credit(call)
    call.press("1")  # name and address right
    assert "rate plan code" in call.last_prompt


def test_the_hold_sentence_is_said_once_then_the_hold_chime_plays(services, worker, switches):
    services.settings = dataclasses.replace(services.settings, switch_deadline=2)
    app = create_app(services=services)
    phone = Softphone(FlaskTransport(app), "/voice", pause_scale=0.05, max_redirects=400)
    switches["HOU1"].control("silent 60")
    call = log_on(phone)
    new_transaction(call)
    _to_rate_plan(call)
    call.press("10#")
    call.press("1")
    call.press("713555#")
    heard = call.press("1")
    assert heard.count("Assigning the new number on the switch. Please hold.") == 1
    assert "The number assignment is delayed" in call.last_prompt
    polls = [e for e in call.events if e.kind == "pause"]
    assert len(polls) >= 5  # twenty polls a second scaled: the switch took its 2 s
    assert len(call.played) >= len(polls) and set(call.played) == {"/audio/hold.wav"}
    media = app.test_client().get("/audio/hold.wav")
    assert media.status_code == 200 and media.mimetype == "audio/wav"
    assert media.data[:4] == b"RIFF" and media.data[8:12] == b"WAVE"
    assert len(media.data) > 8000  # about a second of 8 kHz 16-bit sound


def test_the_esn_is_read_back_as_printed_and_2_keys_it_again(phone, services):
    call = log_on(phone)
    new_transaction(call)
    call.press("13803186457#")
    assert "You entered the handset 1 3 8, 0 3 1 8, 6 4 5 7." in call.last_prompt
    assert "press 1" in call.last_prompt and "press 2" in call.last_prompt
    call.press("2")
    assert "E S N" in call.last_prompt
    call.press("13803186458#")
    assert "6 4 5 8" in call.last_prompt
    call.press("1")
    assert "individual" in call.last_prompt
    with services.db.read() as session:
        assert session.scalar(select(Transaction.esn)) == "13803186458"


def test_the_rate_plan_is_read_back_by_name_and_monthly_price(phone, services, worker):
    call = log_on(phone)
    new_transaction(call)
    _to_rate_plan(call)
    call.press("20#")
    assert "Rate plan 2 0, Economy, at 29 dollars a month." in call.last_prompt
    call.press("2")
    assert "rate plan code" in call.last_prompt
    call.press("10#")
    assert "Basic, at 19 dollars a month" in call.last_prompt
    call.press("1")
    assert "N P A N X X" in call.last_prompt
    with services.db.read() as session:
        assert session.scalar(select(Transaction.rate_plan_code)) == "10"


def test_a_business_tax_id_is_read_back_as_an_ein(phone, worker):
    call = log_on(phone)
    new_transaction(call)
    call.press("13803186457#")
    call.press("1")
    call.press("2")  # business
    call.press("123456789#")
    assert "You entered 1 2, 3 4 5 6 7 8 9." in call.last_prompt


def test_a_wrong_entry_is_told_what_the_step_takes(phone):
    call = log_on(phone)
    new_transaction(call)
    assert "An E S N has eleven digits" in call.press("12345#")
    call.press("13803186457#")
    assert "Please press 1 or 2." in call.press("7")
    call.press("1")
    assert "Please press 1 or 2." in call.press("5")  # individual or business
    call.press("1")
    assert "nine digits" in call.press("1234#")


def test_a_transaction_code_ended_with_pound_is_taken_at_the_menu(phone, services, worker):
    call = log_on(phone)
    code = new_transaction(call)
    call.hang_up()
    again = log_on(phone)
    heard = again.press(code + "#")
    assert f"Transaction {' '.join(code)} is incomplete. Resuming." in heard
    assert "E S N" in again.last_prompt
    # '#' alone and '##' are still answers of their own
    other = log_on(phone)
    assert "Your transaction code is" in other.press("#")


def test_an_escalation_after_an_unserved_npa_nxx_says_both_entries(phone, services, worker):
    call = log_on(phone)
    new_transaction(call)
    _to_rate_plan(call)
    call.press("10#")
    call.press("1")
    heard = call.press("212555#")
    assert "2 1 2, 5 5 5 is not served" in heard
    heard = call.press("71355#")
    assert "An N P A N X X has six digits" in heard and call.transfer is not None
    with services.db.read() as session:
        reason = session.scalar(select(Escalation.reason))
    assert reason == "NPA-NXX: 212555 not served; then 5 digits, not 6"
    assert "wrong number of digits" not in reason


def test_a_wrong_agent_id_or_pin_is_told_its_length(phone):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    heard = call.press("123456789#")
    assert "That entry is not valid. An agent I D has one to eight digits." in heard
    assert "Please enter your agent I D" in heard  # asked again, nothing counted against 1001
    call.press("1001#")
    heard = call.press("12#")
    assert "That entry is not valid. A PIN has four to eight digits." in heard
    assert "Please enter your PIN" in heard
    assert "Hello Pat Seller." in call.press("2468#")


def test_a_wrong_agent_id_or_pin_is_told_its_length_in_spanish(phone):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("*")
    heard = call.press("123456789#")
    assert "Esa entrada no es válida. Un número de agente tiene de uno a ocho dígitos." in heard
    call.press("1001#")
    heard = call.press("12#")
    assert "Esa entrada no es válida. Un PIN tiene de cuatro a ocho dígitos." in heard
    assert "Ingrese su PIN" in heard
