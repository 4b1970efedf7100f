"""The other side of a partner protocol: a simulator's desk, answering requests without I/O.

A desk takes a `Request` (method, path, query, headers, body) and returns an `Answer`; the
HTTP server of `cas partner-sim` and the in-process transport of the adapters both carry
requests to it, so a simulator process and an in-process simulator answer byte for byte alike.

Order of a request's handling: the control endpoint (faults), then the fault drawn for the
request (down: 503; garbage: noise), then the credentials (401), then the party's routes; a
`slow` fault makes the finished answer late. Keyed requests (Idempotency-Key) run once: a
repeat of the same key and request gets the first answer back (while the entry it concerns
stands unchanged, see ledger.py), another request with that key is refused (422
idempotency_key_reused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from activation.keyed import is_digits
from activation.parties.faults import Faults
from activation.parties.ledger import Ledger

JSON = "application/json"
CONTROL_PATH = "/_sim/faults"
GARBAGE = b"<html><body>\x00\xff upstream gateway error \xfe</body>"
KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class Request:
    """One request to a desk; header names in lower case."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Answer:
    """A desk's answer; `delay`: seconds it comes late (a slow fault)."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


def reply(status: int, payload: Any = None) -> Answer:
    """A JSON answer (no body when payload is None)."""
    body = b"" if payload is None else json.dumps(payload, sort_keys=True).encode()
    return Answer(status, body)


def refusal(status: int, error: str, message: str = "") -> Answer:
    """An error answer of the protocols' Error schema."""
    return reply(status, {"error": error, "message": message or error.replace("_", " ")})


class Refused(Exception):
    """A request the desk does not take (malformed, wrong field); becomes an error answer."""

    def __init__(self, status: int, error: str, message: str = "") -> None:
        super().__init__(message or error)
        self.answer = refusal(status, error, message)


def json_body(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object (400 otherwise)."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise Refused(400, "bad_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "bad_request", "the body is not a JSON object")
    return body


def field_of(body: Mapping[str, Any], name: str, pattern: str | None = None) -> str:
    """A required string field, optionally matching a pattern (400 otherwise)."""
    value = body.get(name)
    if not isinstance(value, str):
        raise Refused(400, "bad_request", f"{name} is required and is a string")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise Refused(400, "bad_request", f"{name} does not match {pattern}")
    return value


def page_limit(query: Mapping[str, str], default: int = 100, most: int = 1000) -> int:
    """The `limit` query parameter of a listing (400 when not 1..most)."""
    raw = query.get("limit", str(default))
    if not is_digits(raw, 1, 4) or not 1 <= int(raw) <= most:
        raise Refused(400, "bad_request", f"limit is a whole number from 1 to {most}")
    return int(raw)


Handler = Callable[[Request, "re.Match[str]"], Answer]
Route = tuple[str, "re.Pattern[str]", Handler]


class Desk:
    """The shared behaviour of every partner simulator: faults, credentials, routes, keys."""

    party = "party"

    def __init__(self, *, token: str = "", user: str = "", password: str = "") -> None:
        self.faults = Faults()
        self._token = token
        self._basic = (user, password) if user else None

    def routes(self) -> Sequence[Route]:
        """The party's operations: (method, path pattern, handler)."""
        raise NotImplementedError

    def is_down(self) -> bool:
        """Tell whether the party is down by a means other than a fault command."""
        return False

    def handle(self, request: Request) -> Answer:
        """Answer one request (see the module for the order of the checks)."""
        if request.path == CONTROL_PATH:
            return self._control(request)
        fault = self.faults.draw()
        if (fault is not None and fault.kind == "down") or self.is_down():
            return refusal(503, "unavailable", f"the {self.party} is down")
        if fault is not None and fault.kind == "garbage":
            return Answer(200, GARBAGE)
        if not self._authorised(request.headers):
            return refusal(401, "unauthorized", "credentials missing or wrong")
        try:
            answer = self._route(request)
        except Refused as refused:
            answer = refused.answer
        if fault is not None and fault.kind == "slow":
            answer = replace(answer, delay=fault.seconds)
        return answer

    def once(
        self, ledger: Ledger, request: Request, entry_id: str, work: Callable[[Any], Answer]
    ) -> Answer:
        """Run a keyed request's work on one entry once per key, in one ledger transaction."""
        key = request.headers.get("idempotency-key", "")
        if not KEY.fullmatch(key):
            raise Refused(400, "idempotency_key_missing", "Idempotency-Key: 1-255 visible chars")
        fingerprint = _fingerprint(request)
        with ledger.transaction() as conn:
            seen = ledger.remembered(conn, key)
            if seen is not None:
                if seen.fingerprint != fingerprint:
                    return refusal(422, "idempotency_key_reused", "the key named another request")
                return Answer(seen.status, seen.body, headers=(("Idempotent-Replayed", "true"),))
            answer = work(conn)
            ledger.remember(conn, key, entry_id, fingerprint, answer.status, answer.body)
            return answer

    def _route(self, request: Request) -> Answer:
        known_path = False
        for method, pattern, handler in self.routes():
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            known_path = True
            if method == request.method:
                return handler(request, match)
        if known_path:
            return refusal(405, "method_not_allowed")
        return refusal(404, "no_such_path", f"no {request.path} at the {self.party}")

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if not self._token and self._basic is None:
            return True
        given = headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if self._token and scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), self._token.encode())
        if self._basic is not None and scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            wanted_user, wanted_password = self._basic
            return hmac.compare_digest(user.encode(), wanted_user.encode()) and (
                hmac.compare_digest(password.encode(), wanted_password.encode())
            )
        return False

    def _control(self, request: Request) -> Answer:
        if not self._authorised(request.headers):
            return refusal(401, "unauthorized", "credentials missing or wrong")
        if request.method == "GET":
            return reply(200, {"faults": self.faults.describe()})
        if request.method != "POST":
            return refusal(405, "method_not_allowed")
        try:
            command = field_of(json_body(request), "command")
            return reply(200, {"faults": self.faults.apply(command)})
        except Refused as refused:
            return refused.answer
        except ValueError as exc:
            return refusal(400, "bad_fault", str(exc))


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True) if request.body else ""
    except ValueError:
        body = request.body.hex()
    query = json.dumps(sorted(request.query.items()))
    return hashlib.sha256(f"{request.method} {request.path} {query} {body}".encode()).hexdigest()


class LedgerDesk(Desk):
    """A simulator keeping what it took in a ledger file in its directory; it is also down while
    the file `DOWN` exists there, so an operator or a test in another process can take it down."""

    ledger_file = "ledger.sqlite3"

    def __init__(self, directory: Path, **credentials: str) -> None:
        super().__init__(**credentials)
        self.directory = directory
        self.ledger = Ledger(directory / self.ledger_file)

    def is_down(self) -> bool:
        return (self.directory / "DOWN").exists()
