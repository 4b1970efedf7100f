"""Behind a TLS proxy: Twilio's signature over the public https URL verifies with
CAS_TRUSTED_PROXIES, a wrong one is refused and logged with the URL checked; and the fallback
URL apologises and hands the caller to a CSR."""

from __future__ import annotations

import logging
from dataclasses import replace

from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone

TOKEN = "proxy-test-auth-token"
PUBLIC = "https://cas.example.com"
FORM = {
    "CallSid": "CA" + "4" * 32,
    "AccountSid": "AC" + "0" * 32,
    "From": "+15005550006",
    "To": "+15005550000",
    "CallStatus": "ringing",
    "Direction": "inbound",
}
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cas.example.com"}


def app_for(services, **settings):  # type: ignore[no-untyped-def]
    services.settings = replace(services.settings, twilio_auth_token=TOKEN, **settings)
    return create_app({"TESTING": True}, services=services)


def signed(url: str, form: dict[str, str] = FORM) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}


def test_behind_a_trusted_proxy_the_public_https_signature_verifies(services):
    client = app_for(services, trusted_proxies=1).test_client()
    # The proxy spoke plain http to CAS; Twilio signed the https URL it called.
    reply = client.post(
        "/voice",
        data=FORM,
        headers=FORWARDED | signed(f"{PUBLIC}/voice"),
        base_url="http://10.0.0.5",
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert b"agent I D" in reply.data


def test_without_trusted_proxies_the_same_request_is_refused_naming_the_url(services, caplog):
    client = app_for(services).test_client()
    with caplog.at_level(logging.WARNING, logger="cas.ivr.signature"):
        reply = client.post(
            "/voice",
            data=FORM,
            headers=FORWARDED | signed(f"{PUBLIC}/voice"),
            base_url="http://10.0.0.5",
        )
    assert reply.status_code == 403
    (record,) = caplog.records
    message = record.getMessage()
    assert "invalid X-Twilio-Signature" in message
    assert "the URL checked was http://10.0.0.5/voice" in message
    assert "set CAS_PUBLIC_URL or CAS_TRUSTED_PROXIES" in message
    assert TOKEN not in message and record.checked_url == "http://10.0.0.5/voice"


def test_a_wrong_signature_behind_the_proxy_is_logged_with_the_url_checked(services, caplog):
    client = app_for(services, trusted_proxies=1).test_client()
    with caplog.at_level(logging.WARNING, logger="cas.ivr.signature"):
        wrong = client.post(
            "/voice/gather?n=1",
            data=FORM,
            headers=FORWARDED | signed(f"{PUBLIC}/voice"),  # signed over another path
            base_url="http://10.0.0.5",
        )
        missing = client.post("/voice", data=FORM, headers=FORWARDED)
    assert (wrong.status_code, missing.status_code) == (403, 403)
    first, second = (r.getMessage() for r in caplog.records)
    assert f"the URL checked was {PUBLIC}/voice/gather?n=1" in first
    assert "1 trusted proxy hop(s)" in first
    assert "missing X-Twilio-Signature" in second and f"{PUBLIC}/voice" in second
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_a_forged_forwarded_host_is_not_believed_past_the_trusted_hops(services):
    client = app_for(services, trusted_proxies=1).test_client()
    # A client put its own X-Forwarded-Host before the proxy appended the real one.
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example, cas.example.com"}
    forged = client.post(
        "/voice", data=FORM, headers=headers | signed("https://evil.example/voice")
    )
    real = client.post("/voice", data=FORM, headers=headers | signed(f"{PUBLIC}/voice"))
    assert (forged.status_code, real.status_code) == (403, 200)


def test_cas_public_url_still_wins_over_the_forwarded_headers(services):
    client = app_for(services, trusted_proxies=1, public_url=PUBLIC + "/cas").test_client()
    reply = client.post("/voice", data=FORM, headers=signed(f"{PUBLIC}/cas/voice"))
    assert reply.status_code == 200


def test_the_fallback_apologises_and_enqueues_for_a_csr(services, caplog):
    app = app_for(services)
    phone = Softphone(FlaskTransport(app), "/voice/fallback", auth_token=TOKEN)
    with caplog.at_level(logging.ERROR, logger="cas.ivr"):
        call = phone.dial(from_="+15005550006", to="+15005550000")
    assert call.heard[0].startswith("We are sorry")
    assert "customer service representative" in call.heard[1]
    assert call.ended and call.transfer is not None
    assert (call.transfer.verb, call.transfer.target) == ("Enqueue", "csr")
    assert any("voice fallback" in r.getMessage() for r in caplog.records)
    unsigned = app.test_client().post("/voice/fallback", data=FORM)
    assert unsigned.status_code == 403


def test_the_fallback_dials_the_csr_line_when_there_is_one(services):
    app = app_for(services, csr_number="+15005550100")
    form = FORM | {"ErrorCode": "11200", "ErrorUrl": f"{PUBLIC}/voice"}
    reply = app.test_client().post(
        "/voice/fallback", data=form, headers=signed("http://localhost/voice/fallback", form)
    )
    assert reply.status_code == 200
    body = reply.get_data(as_text=True)
    assert "<Dial><Number" in body and "+15005550100</Number>" in body
