"""The Twilio adapter of the telephony port, talking HTTP to the fake of Twilio's REST API."""

from __future__ import annotations

import socket

import pytest
import requests

from activation.parties.ports import TelephonyUnavailable
from activation.settings import Settings
from ivr.bootstrap import bootstrap
from ivr.telephony import BaseUrlHttpClient, TwilioTelephony

from .conftest import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID


def test_a_call_back_is_placed_through_twilio_rest_client_at_the_configured_base_url(fake_twilio):
    phone = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, api_url=fake_twilio.url)
    assert isinstance(phone.client.http_client, BaseUrlHttpClient)
    sid = phone.place_call(
        "+15005550006",
        "https://cas.example/voice/callback?tx=12345678",
        "https://cas.example/voice/callback-status",
    )
    [call] = fake_twilio.calls
    assert sid == call.sid and sid.startswith("CA") and len(sid) == 34
    assert (call.to, call.from_) == ("+15005550006", CALLER_ID)
    assert call.url == "https://cas.example/voice/callback?tx=12345678"
    assert call.method == "POST"
    assert call.status_callback == "https://cas.example/voice/callback-status"
    assert "completed" in call.status_callback_events
    shown = requests.get(
        f"{fake_twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    ).json()
    assert shown["status"] == "queued" and shown["direction"] == "outbound-api"


def test_wrong_credentials_are_refused_as_twilio_refuses_them(fake_twilio):
    phone = TwilioTelephony(ACCOUNT_SID, "not-the-token", CALLER_ID, api_url=fake_twilio.url)
    with pytest.raises(TelephonyUnavailable, match="401"):
        phone.place_call("+15005550006", "https://cas.example/x", "https://cas.example/y")
    assert fake_twilio.calls == []


def test_a_twilio_outage_is_unavailable_and_the_next_try_goes_through(fake_twilio):
    phone = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, api_url=fake_twilio.url)
    fake_twilio.refusals.append(503)
    with pytest.raises(TelephonyUnavailable, match="503"):
        phone.place_call("+15005550006", "https://cas.example/x", "https://cas.example/y")
    assert phone.place_call("+15005550006", "https://cas.example/x", "https://cas.example/y")
    assert len(fake_twilio.calls) == 1


def test_an_unreachable_api_is_unavailable():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    phone = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, api_url=f"http://127.0.0.1:{port}")
    with pytest.raises(TelephonyUnavailable, match="not reached"):
        phone.place_call("+15005550006", "https://cas.example/x", "https://cas.example/y")


def test_the_fake_says_what_twilio_says_about_missing_fields(fake_twilio):
    reply = requests.post(
        f"{fake_twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        data={"From": CALLER_ID, "Url": "https://cas.example/x"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert reply.status_code == 400 and reply.json()["code"] == 21201


def test_without_an_account_no_call_is_attempted(tmp_path):
    phone = bootstrap(Settings(data_dir=tmp_path)).telephony
    with pytest.raises(TelephonyUnavailable, match="no telephony account"):
        phone.place_call("+15005550006", "https://cas.example/x", "https://cas.example/y")
    configured = bootstrap(
        Settings(
            data_dir=tmp_path,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_api_url="http://127.0.0.1:9",
        )
    ).telephony
    assert isinstance(configured, TwilioTelephony)
