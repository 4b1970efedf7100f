"""`cas twilio-setup` against the fake of Twilio's REST API, and the fake's own answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from twilio.base.exceptions import TwilioRestException

from ivr.fake_twilio import FakeTwilio
from ivr.telephony import rest_client
from ivr.twilio_setup import twilio_setup

SID = "AC" + "7" * 32
TOKEN = "setup-test-auth-token"
NUMBER = "+15005550006"
PUBLIC = "https://cas.example.com"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as served:
        yield served


def setup(fake: FakeTwilio, *args: str, **env: str | None):  # type: ignore[no-untyped-def]
    base = {
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "CAS_TWILIO_API_URL": fake.url,
        "CAS_PUBLIC_URL": None,
    }
    return CliRunner().invoke(twilio_setup, list(args), env=base | env)


def test_the_number_sends_its_calls_to_cas(fake):
    owned = fake.phone_numbers.add(
        NUMBER,
        voice_url="https://demo.twilio.com/welcome/voice/",
        voice_application_sid="AP" + "1" * 32,
    )
    other = fake.phone_numbers.add("+15005550007", voice_url="https://elsewhere.example/")
    result = setup(fake, "--number", NUMBER, "--public-url", PUBLIC + "/")
    assert result.exit_code == 0, result.output
    shown = owned.to_json()
    assert shown["voice_url"] == f"{PUBLIC}/voice" and shown["voice_method"] == "POST"
    assert shown["voice_fallback_url"] == f"{PUBLIC}/voice/fallback"
    assert shown["voice_fallback_method"] == "POST"
    assert shown["status_callback"] == f"{PUBLIC}/voice/status"
    assert shown["status_callback_method"] == "POST"
    assert shown["voice_application_sid"] is None  # a TwiML App would take the calls instead
    assert other.to_json()["voice_url"] == "https://elsewhere.example/"
    assert "(was: https://demo.twilio.com/welcome/voice/)" in result.output
    assert f"CAS_PUBLIC_URL={PUBLIC}" in result.output
    assert TOKEN not in result.output


def test_a_dry_run_changes_nothing(fake):
    owned = fake.phone_numbers.add(NUMBER)
    result = setup(fake, "--number", NUMBER, "--public-url", PUBLIC, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"{NUMBER} would send its calls to CAS" in result.output
    assert fake.phone_numbers.updates == [] and owned.to_json()["voice_url"] is None


def test_the_public_url_defaults_to_cas_public_url_and_a_mismatch_is_told(fake):
    fake.phone_numbers.add(NUMBER)
    result = setup(fake, "--number", NUMBER, CAS_PUBLIC_URL=PUBLIC)
    assert result.exit_code == 0, result.output
    assert fake.phone_numbers.updates[-1]["VoiceUrl"] == f"{PUBLIC}/voice"
    other = setup(
        fake, "--number", NUMBER, "--public-url", "https://x.example", CAS_PUBLIC_URL=PUBLIC
    )
    assert other.exit_code == 0 and "CAS_PUBLIC_URL here is https://cas.example.com" in other.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--number", NUMBER, "--public-url", "http://cas.example.com"], "must be an https URL"),
        (["--number", NUMBER, "--public-url", "https://cas.example.com?x=1"], "without ?query"),
        (["--number", "5005550006", "--public-url", PUBLIC], "E.164"),
        (["--number", "+15005550099", "--public-url", PUBLIC], "has no number +15005550099"),
    ],
)
def test_what_cannot_be_set_up_is_refused_with_the_reason(fake, args, said):
    fake.phone_numbers.add(NUMBER)
    result = setup(fake, *args)
    assert result.exit_code == 1 and said in result.output
    assert fake.phone_numbers.updates == []


def test_a_number_on_a_sip_trunk_is_refused(fake):
    fake.phone_numbers.add(NUMBER, trunk_sid="TK" + "2" * 32)
    result = setup(fake, "--number", NUMBER, "--public-url", PUBLIC)
    assert result.exit_code == 1 and "belongs to the SIP trunk TK" in result.output
    assert fake.phone_numbers.updates == []


def test_twilio_refusing_the_credentials_is_said_without_them(fake):
    fake.phone_numbers.add(NUMBER)
    result = setup(fake, "--number", NUMBER, "--public-url", PUBLIC, TWILIO_AUTH_TOKEN="wrong")
    assert result.exit_code == 1
    assert "Twilio refused: HTTP 401, error 20003" in result.output
    assert "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output
    assert "wrong" not in result.output
    unset = setup(fake, "--number", NUMBER, "--public-url", PUBLIC, TWILIO_AUTH_TOKEN=None)
    assert unset.exit_code == 2 and "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in unset.output


def test_twilio_not_answering_is_said(fake):
    result = setup(
        fake, "--number", NUMBER, "--public-url", PUBLIC, CAS_TWILIO_API_URL="http://127.0.0.1:9"
    )
    assert (
        result.exit_code == 1
        and "Twilio's API at http://127.0.0.1:9 did not answer" in result.output
    )


def test_the_fake_answers_phone_numbers_as_twilio_does(fake):
    owned = fake.phone_numbers.add(NUMBER)
    fake.phone_numbers.add("+15005550106")
    client = rest_client(SID, TOKEN, fake.url)
    assert [n.sid for n in client.incoming_phone_numbers.list(phone_number=NUMBER)] == [owned.sid]
    assert len(client.incoming_phone_numbers.list(phone_number="+1500555*006")) == 1
    assert len(client.incoming_phone_numbers.list(phone_number="5550")) == 2
    assert client.incoming_phone_numbers(owned.sid).fetch().phone_number == NUMBER
    with pytest.raises(TwilioRestException) as bad_url:
        client.incoming_phone_numbers(owned.sid).update(voice_url="not a url")
    assert (bad_url.value.status, bad_url.value.code) == (400, 21402)
    with pytest.raises(TwilioRestException) as bad_method:
        client.incoming_phone_numbers(owned.sid).update(voice_method="PUT")
    assert (bad_method.value.status, bad_method.value.code) == (400, 21403)
    with pytest.raises(TwilioRestException) as unknown:
        client.incoming_phone_numbers("PN" + "0" * 32).update(voice_url=f"{PUBLIC}/voice")
    assert (unknown.value.status, unknown.value.code) == (404, 20404)
    assert fake.phone_numbers.updates == []
