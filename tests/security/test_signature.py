"""X-Twilio-Signature over the URL with or without its port, as Twilio signs either way."""

from __future__ import annotations

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from ivr import signature

TOKEN = "the-auth-token"
FORM = {"CallSid": "CA1", "Digits": "1001#", "From": "+15005550006"}


def _valid(url: str, signed_over: str, token: str = TOKEN) -> bool:
    sig = RequestValidator(token).compute_signature(signed_over, FORM)
    app = Flask(__name__)
    with app.test_request_context(
        url, method="POST", data=FORM, headers={"X-Twilio-Signature": sig}
    ):
        return signature.is_valid(request, TOKEN, "")


@pytest.mark.parametrize(
    ("url", "signed_over"),
    [
        ("http://cas.example.com:8000/voice?n=1", "http://cas.example.com:8000/voice?n=1"),
        ("http://cas.example.com:8000/voice?n=1", "http://cas.example.com/voice?n=1"),
        ("https://cas.example.com/voice", "https://cas.example.com/voice"),
        ("https://cas.example.com/voice", "https://cas.example.com:443/voice"),
    ],
)
def test_either_form_of_the_url_verifies(url: str, signed_over: str):
    assert _valid(url, signed_over)


@pytest.mark.parametrize(
    "signed_over",
    [
        "http://cas.example.com:8000/voice?n=2",  # another query
        "http://cas.example.com:8001/voice?n=1",  # another port
        "https://cas.example.com:8000/voice?n=1",  # another scheme
    ],
)
def test_another_url_is_refused(signed_over: str):
    assert not _valid("http://cas.example.com:8000/voice?n=1", signed_over)


def test_another_token_or_form_is_refused():
    url = "http://cas.example.com/voice"
    assert not _valid(url, url, token="another-token")
    sig = RequestValidator(TOKEN).compute_signature(url, FORM)
    with Flask(__name__).test_request_context(
        url, method="POST", data={**FORM, "Digits": "2"}, headers={"X-Twilio-Signature": sig}
    ):
        assert not signature.is_valid(request, TOKEN, "")


def test_the_form_that_verifies_first_settles_it(monkeypatch: pytest.MonkeyPatch):
    """A webhook signed as Twilio usually signs it costs one HMAC, not one for each form."""
    computed: list[str] = []
    compute = RequestValidator.compute_signature

    def counted(self, uri, params, algorithm=None):  # type: ignore[no-untyped-def]
        computed.append(uri)
        return compute(self, uri, params, algorithm)

    monkeypatch.setattr(RequestValidator, "compute_signature", counted)
    url = "https://cas.example.com/voice/gather?n=3"
    sig = compute(RequestValidator(TOKEN), url, FORM)
    computed.clear()
    with Flask(__name__).test_request_context(
        url, method="POST", data=FORM, headers={"X-Twilio-Signature": sig}
    ):
        assert signature.is_valid(request, TOKEN, "")
    assert computed == [url]
