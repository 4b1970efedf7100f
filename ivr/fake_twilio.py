"""A fake of Twilio's REST API for tests and the demo: it records the calls CAS asks it to place.

It answers as Twilio's 2010-04-01 API does, as far as CAS uses it:

- POST /2010-04-01/Accounts/{sid}/Calls.json with To, From, Url (or Twiml): 201 and the call's
  JSON (status `queued`); 401 for other credentials, 400 (code 21201...) for a missing field;
- GET .../Calls.json (?Status=queued to filter) lists calls; GET .../Calls/{CallSid}.json shows one;
- `report(sid, status)` then plays the telephone network: it posts the call's status callback,
  signed with the account's auth token exactly as Twilio signs it;
- the account's phone numbers (IncomingPhoneNumbers: list, fetch, update) are
  ivr/fake_twilio_numbers.py's: `fake.phone_numbers.add("+1…")` gives the account one.

Nothing rings: a test (or `cas dial`) answers a recorded call by fetching its Url with a
softphone, then tells the fake how the call ended.
"""

from __future__ import annotations

import argparse
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from ivr.fake_twilio_numbers import NumbersApi

API = "/2010-04-01"
FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass
class PlacedCall:
    """One call the fake was asked to place, and what it has reported of it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str
    status_callback_method: str
    status_callback_events: tuple[str, ...]
    status: str = "queued"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    reports: list[tuple[str, int]] = field(default_factory=list)  # (status, HTTP answer)

    def to_json(self) -> dict[str, Any]:
        """Return the call as Twilio's API shows it."""
        stamp = format_datetime(self.created, usegmt=True)
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "status": self.status,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": stamp,
            "date_updated": stamp,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "answered_by": None,
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "annotation": None,
            "subresource_uris": {},
            "uri": f"{API}/Accounts/{self.account_sid}/Calls/{self.sid}.json",
        }


class FakeTwilio:
    """Twilio's call-placing API, in memory, for one account."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[PlacedCall] = []
        self.refusals: list[int] = []  # HTTP statuses for the next requests to place a call
        self._placed = threading.Condition()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.phone_numbers = NumbersApi(self)
        self.app = self._build_app()

    # -- the REST API ------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("fake_twilio")
        prefix = f"{API}/Accounts/<account>"
        app.add_url_rule(f"{prefix}/Calls.json", "create", self._create, methods=["POST"])
        app.add_url_rule(f"{prefix}/Calls.json", "list", self._list, methods=["GET"])
        app.add_url_rule(f"{prefix}/Calls/<sid>.json", "fetch", self._fetch, methods=["GET"])
        self.phone_numbers.mount(app)
        # Not Twilio's: how a person at `cas dial --answer-callback` plays the called phone.
        app.add_url_rule("/phone/ring", "ring", self._ring, methods=["POST"])
        app.add_url_rule("/phone/<sid>/status", "status", self._status, methods=["POST"])
        return app

    def _ring(self) -> Response:
        """Ring the phone of the oldest queued call: answer what it needs to be taken."""
        for call in self.calls:
            if call.status == "queued":
                self.report(call.sid, "ringing")
                return jsonify(
                    {
                        "sid": call.sid,
                        "url": call.url,
                        "method": call.method,
                        "from": call.from_,
                        "to": call.to,
                    }
                )
        return self._error(404, 20404, "no call is waiting to be answered")

    def _status(self, sid: str) -> Response:
        """Move a rung call on (in-progress, completed, busy, no-answer) as the network would."""
        status = request.form.get("Status", "")
        if status not in ("in-progress", *FINAL) or sid not in {c.sid for c in self.calls}:
            return self._error(400, 21220, "unknown call or status")
        duration = int(request.form.get("Duration", "0") or 0)
        return jsonify({"callback_answer": self.report(sid, status, duration)})

    def _error(self, status: int, code: int, message: str) -> Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        reply = jsonify(body)
        reply.status_code = status
        return reply

    def _authorized(self, account: str) -> Response | None:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return self._error(401, 20003, "Authenticate")
        if account != self.account_sid:
            return self._error(404, 20404, "The requested resource was not found")
        return None

    def _create(self, account: str) -> Response:
        refused = self._authorized(account)
        if refused is not None:
            return refused
        if self.refusals:
            return self._error(self.refusals.pop(0), 20500, "Internal Server Error")
        form = request.form
        for name, code in (("To", 21201), ("From", 21213)):
            if not form.get(name):
                return self._error(400, code, f"No '{name}' number is specified")
        if not form.get("Url") and not form.get("Twiml"):
            return self._error(400, 21205, "Url parameter is required")
        call = PlacedCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=form["To"],
            from_=form["From"],
            url=form.get("Url", ""),
            method=form.get("Method", "POST").upper(),
            status_callback=form.get("StatusCallback", ""),
            status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
            status_callback_events=tuple(form.getlist("StatusCallbackEvent")) or ("completed",),
        )
        with self._placed:
            self.calls.append(call)
            self._placed.notify_all()
        reply = jsonify(call.to_json())
        reply.status_code = 201
        return reply

    def _list(self, account: str) -> Response:
        refused = self._authorized(account)
        if refused is not None:
            return refused
        wanted = request.args.get("Status")
        calls = [c.to_json() for c in self.calls if wanted in (None, c.status)]
        return jsonify({"calls": calls, "page": 0, "page_size": len(calls), "next_page_uri": None})

    def _fetch(self, account: str, sid: str) -> Response:
        refused = self._authorized(account)
        if refused is not None:
            return refused
        for call in self.calls:
            if call.sid == sid:
                return jsonify(call.to_json())
        return self._error(404, 20404, "The requested resource was not found")

    # -- the telephone network ---------------------------------------------------------------

    def wait_for_call(self, count: int = 1, timeout: float = 30.0) -> PlacedCall:
        """Wait until `count` calls were placed; return the last of them."""
        with self._placed:
            if not self._placed.wait_for(lambda: len(self.calls) >= count, timeout):
                raise TimeoutError(f"no call #{count} placed within {timeout} s")
            return self.calls[count - 1]

    def report(self, sid: str, status: str, duration: int = 0) -> int:
        """Move a call to a status and post its status callback as Twilio would."""
        # Returns the HTTP status CAS answered, or 0 for a status CAS did not ask to hear of.
        call = next(c for c in self.calls if c.sid == sid)
        call.status = status
        event = "answered" if status == "in-progress" else status
        wanted = set(call.status_callback_events)
        if not call.status_callback or (event not in wanted and status not in FINAL):
            return 0
        params = {
            "CallSid": call.sid,
            "AccountSid": call.account_sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(len(call.reports)),
        }
        if status in FINAL:
            params["CallDuration"] = str(duration)
        signature = RequestValidator(self.auth_token).compute_signature(
            call.status_callback, params
        )
        reply = requests.post(
            call.status_callback,
            data=params,
            headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
            timeout=15,
        )
        call.reports.append((status, reply.status_code))
        return reply.status_code

    # -- serving -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTwilio:
        """Serve the API on a port of its own (0: any free one) in a thread."""
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeTwilio:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main() -> None:
    """Serve a fake Twilio API until interrupted (for the demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="fake-auth-token")
    parser.add_argument("--number", action="append", default=[], help="A number of the account.")
    args = parser.parse_args()
    fake = FakeTwilio(args.account_sid, args.auth_token)
    for number in args.number:
        fake.phone_numbers.add(number)
    fake.start(port=args.port)
    print(f"fake Twilio API at {fake.url} for account {args.account_sid}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
