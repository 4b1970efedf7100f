"""CAS's side of the partner protocols: one HTTP+JSON client per party, on httpx.

Every call has a deadline (connecting and each read), sends the party's credentials (a bearer
token or basic credentials), and turns whatever is not an answer of the protocol into the
party's typed `...Unavailable`: not reached, no answer in time, a 5xx or an unexpected status,
refused credentials, a body that is not the JSON the document promises.

`InProcessTransport` carries the same requests to a simulator's desk without a socket, so the
in-process simulators are reached through exactly the adapter and bytes a process is.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from activation.parties.desk import Desk, Request
from activation.parties.ports import KeyReused, PartyUnavailable

T = TypeVar("T")

# httpx logs every request at INFO: a line per PVS question and billing record would drown
# the worker's and the web server's own; its warnings still come through.
logging.getLogger("httpx").setLevel(logging.WARNING)


class PartyClient:
    """Calls one party's protocol; raises `unavailable` for anything that is not an answer."""

    def __init__(
        self,
        party: str,
        base_url: str,
        *,
        unavailable: type[PartyUnavailable],
        deadline: float,
        token: str = "",
        user: str = "",
        password: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.party = party
        self.deadline = deadline
        self.unavailable = unavailable
        headers = {"Accept": "application/json", "User-Agent": "cas"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            auth=httpx.BasicAuth(user, password) if user and not token else None,
            timeout=httpx.Timeout(deadline),
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # a proxy is named in the party's URL, never picked up unseen
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: Iterable[int] = (200,),
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        key: str | None = None,
        idempotent: bool = False,
    ) -> tuple[int, Any]:
        """Make one request; return (status, decoded JSON or None) for an expected status.

        `idempotent` requests carry an Idempotency-Key header: `key`, or a fresh one when
        none is given (a single attempt, as a CSR's by-hand insert).
        """
        headers: dict[str, str] = {}
        if idempotent:
            headers["Idempotency-Key"] = key or uuid.uuid4().hex
        try:
            response = self._http.request(
                method,
                path,
                content=None if body is None else json.dumps(dict(body)).encode(),
                params=dict(params) if params else None,
                headers={**headers, **({"Content-Type": "application/json"} if body else {})},
            )
        except httpx.TimeoutException:
            raise self.unavailable(f"{self.party}: no answer within {self.deadline:g} s") from None
        except httpx.HTTPError as exc:
            raise self.unavailable(f"{self.party} not reached: {type(exc).__name__}") from None
        status = response.status_code
        decoded = self._decode(response)
        error = decoded.get("error", "") if isinstance(decoded, dict) else ""
        if status == 422 and error == "idempotency_key_reused":
            raise KeyReused(f"{self.party} refused key {headers.get('Idempotency-Key')}")
        if status not in set(expect):
            raise self.unavailable(f"{self.party} answered HTTP {status} {error}".rstrip())
        return status, decoded

    def _decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.unavailable(
                f"{self.party} answered HTTP {response.status_code} with bytes that are not JSON"
            ) from None

    def read(self, build: Callable[[], T]) -> T:
        """Build a value from a decoded answer; a missing or mistyped field is a garbled one."""
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self.unavailable(f"{self.party} answered a garbled body: {exc!r}") from None

    def close(self) -> None:
        """Close the connections kept open to the party."""
        self._http.close()


def text(body: Any, name: str, longest: int | None = None, pattern: str | None = None) -> str:
    """The string field `name` of a decoded body (TypeError otherwise); ValueError when it is
    longer than the protocol allows or not of its pattern: what CAS keeps has its bounds."""
    value = body[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    if longest is not None and len(value) > longest:
        raise ValueError(f"{name} is longer than {longest} characters")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"{name} is not of the pattern {pattern}")
    return value


def whole(body: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """The integer field `name` of a decoded body (TypeError otherwise; ValueError outside
    low..high)."""
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is not an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} is not between {low} and {high}")
    return value


class InProcessTransport(httpx.BaseTransport):
    """Hands each request to a simulator's desk in this process, deadline included."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.desk.handle(
            Request(
                method=request.method,
                path=request.url.path,
                query=dict(request.url.params),
                headers={name.lower(): value for name, value in request.headers.items()},
                body=request.read(),
            )
        )
        if answer.delay:
            # A late answer meets the same read deadline as over a socket.
            timeouts = request.extensions.get("timeout", {})
            limit = timeouts.get("read")
            if limit is not None and answer.delay > limit:
                time.sleep(limit)
                raise httpx.ReadTimeout("no answer within the read deadline", request=request)
            time.sleep(answer.delay)
        return httpx.Response(
            answer.status,
            content=answer.body,
            headers={"Content-Type": answer.content_type, **dict(answer.headers)},
            request=request,
        )
