"""The fake Twilio's phone numbers: the IncomingPhoneNumbers resources `cas twilio-setup` uses.

As Twilio's 2010-04-01 API answers them:

- GET .../IncomingPhoneNumbers.json?PhoneNumber=… lists the account's numbers matching a
  pattern (a partial number; `*` stands for any digit), one page of `incoming_phone_numbers`;
- GET .../IncomingPhoneNumbers/{PN…}.json shows one, 404 (code 20404) for another SID;
- POST .../IncomingPhoneNumbers/{PN…}.json changes the fields given and answers the number:
  400 with code 21402 for a URL Twilio could not call, 21403 for a method not GET or POST.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

if TYPE_CHECKING:
    from ivr.fake_twilio import FakeTwilio

API = "/2010-04-01"
URL_FIELDS = ("VoiceUrl", "VoiceFallbackUrl", "StatusCallback", "SmsUrl", "SmsFallbackUrl")
METHOD_FIELDS = ("VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod", "SmsMethod")
# The form fields Twilio takes, and the JSON key each one is shown under.
FIELDS = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid",
    "TrunkSid": "trunk_sid",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
}


@dataclass
class OwnedNumber:
    """A phone number of the account, with where Twilio sends its calls."""

    sid: str
    account_sid: str
    phone_number: str
    settings: dict[str, str | None] = field(default_factory=dict)  # JSON key -> value
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        """Return the number as Twilio's API shows it."""
        shown: dict[str, Any] = {key: None for key in FIELDS.values()}
        shown.update(
            voice_method="POST",
            voice_fallback_method="POST",
            status_callback_method="POST",
            sms_method="POST",
            friendly_name=self.phone_number,
        )
        shown.update(self.settings)
        return {
            **shown,
            "sid": self.sid,
            "account_sid": self.account_sid,
            "phone_number": self.phone_number,
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "date_created": format_datetime(self.created, usegmt=True),
            "date_updated": format_datetime(self.updated, usegmt=True),
            "origin": "twilio",
            "status": "in-use",
            "voice_caller_id_lookup": False,
            "voice_receive_mode": "voice",
            "emergency_status": "Inactive",
            "address_requirements": "none",
            "uri": f"{API}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json",
        }


def _matches(pattern: str, number: str) -> bool:
    """Twilio's PhoneNumber filter: a part of the number, `*` for any one digit."""
    regex = "".join(r"\d" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.search(regex, number) is not None


def _bad_url(value: str) -> bool:
    parts = urlsplit(value)
    return value != "" and (parts.scheme not in ("http", "https") or not parts.hostname)


class NumbersApi:
    """The IncomingPhoneNumbers resources of one fake account."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self.numbers: dict[str, OwnedNumber] = {}
        self.updates: list[dict[str, str]] = []  # every update's form, as received

    def add(self, phone_number: str, **settings: str | None) -> OwnedNumber:
        """Give the account a number (as buying one would), with any of its JSON fields set."""
        number = OwnedNumber("PN" + secrets.token_hex(16), self.fake.account_sid, phone_number)
        number.settings.update(settings)
        self.numbers[number.sid] = number
        return number

    def mount(self, app: Flask) -> None:
        """Add the resources to the fake's Flask app."""
        prefix = f"{API}/Accounts/<account>/IncomingPhoneNumbers"
        app.add_url_rule(f"{prefix}.json", "numbers", self._list, methods=["GET"])
        app.add_url_rule(f"{prefix}/<sid>.json", "number", self._fetch, methods=["GET"])
        app.add_url_rule(f"{prefix}/<sid>.json", "update", self._update, methods=["POST"])

    def _list(self, account: str) -> Response:
        refused = self.fake._authorized(account)
        if refused is not None:
            return refused
        pattern = request.args.get("PhoneNumber", "")
        page_size = int(request.args.get("PageSize", "50"))
        found = [n.to_json() for n in self.numbers.values() if _matches(pattern, n.phone_number)]
        uri = f"{API}/Accounts/{account}/IncomingPhoneNumbers.json"
        return jsonify(
            {
                "incoming_phone_numbers": found[:page_size],
                "page": 0,
                "page_size": page_size,
                "start": 0,
                "end": max(len(found[:page_size]) - 1, 0),
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "previous_page_uri": None,
                "next_page_uri": None,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            }
        )

    def _fetch(self, account: str, sid: str) -> Response:
        refused = self.fake._authorized(account)
        if refused is not None:
            return refused
        number = self.numbers.get(sid)
        if number is None:
            return self.fake._error(404, 20404, "The requested resource was not found")
        return jsonify(number.to_json())

    def _update(self, account: str, sid: str) -> Response:
        refused = self.fake._authorized(account)
        if refused is not None:
            return refused
        number = self.numbers.get(sid)
        if number is None:
            return self.fake._error(404, 20404, "The requested resource was not found")
        form = request.form
        for name in URL_FIELDS:
            if name in form and _bad_url(form[name]):
                return self.fake._error(400, 21402, f"{name} is not valid.")
        for name in METHOD_FIELDS:
            if name in form and form[name].upper() not in ("GET", "POST"):
                return self.fake._error(400, 21403, f"{name} must be either GET or POST.")
        self.updates.append(form.to_dict())
        for name, key in FIELDS.items():
            if name in form:
                value = form[name].upper() if name in METHOD_FIELDS else form[name]
                number.settings[key] = value or None
        number.updated = datetime.now(UTC)
        return jsonify(number.to_json())
