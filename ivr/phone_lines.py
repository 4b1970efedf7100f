"""How the softphone reaches CAS: one webhook request in, (HTTP status, body) out.

Two lines: real HTTP (as Twilio calls a server) and a Flask test client (flow tests, in-process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

Fields = Mapping[str, str]


class SoftphoneError(Exception):
    """The call cannot go on as Twilio would carry it."""


class WebhookError(SoftphoneError):
    """CAS did not answer a webhook with 200 (or could not be reached)."""

    def __init__(self, method: str, url: str, status: int | None, detail: str) -> None:
        answer = f"HTTP {status}" if status is not None else f"no answer ({detail})"
        super().__init__(f"{method} {url}: {answer}")
        self.method, self.url, self.status, self.detail = method, url, status, detail


class Transport(Protocol):
    """Deliver one webhook request and return (HTTP status, body); URLs are absolute."""

    base_url: str

    def post(self, url: str, form: Fields, headers: Fields) -> tuple[int, str]: ...

    def get(self, url: str, headers: Fields) -> tuple[int, str]: ...


class HttpTransport:
    """Deliver webhooks over real HTTP, giving CAS the 15 s Twilio gives."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()

    def post(self, url: str, form: Fields, headers: Fields) -> tuple[int, str]:
        return self._send("POST", url, dict(form), headers)

    def get(self, url: str, headers: Fields) -> tuple[int, str]:
        return self._send("GET", url, None, headers)

    def _send(self, method: str, url: str, form: Fields | None, headers: Fields) -> tuple[int, str]:
        for attempt in (1, 2):
            try:
                reply = self.session.request(
                    method,
                    url,
                    data=form,
                    headers=dict(headers),
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.ConnectionError as exc:
                # A kept-alive connection the server closed while the caller paused: Twilio
                # opens a new one and retries a webhook once, and so does this softphone.
                if attempt == 1:
                    continue
                raise WebhookError(method, urlsplit(url).path, None, type(exc).__name__) from exc
            except requests.RequestException as exc:
                raise WebhookError(method, urlsplit(url).path, None, type(exc).__name__) from exc
            return reply.status_code, reply.text
        raise AssertionError("unreachable")


class FlaskTransport:
    """Deliver webhooks in-process through a Flask app's test client."""

    base_url = "http://localhost"

    def __init__(self, flask_app: Any) -> None:
        self.client = flask_app.test_client()

    def post(self, url: str, form: Fields, headers: Fields) -> tuple[int, str]:
        reply = self.client.post(url, data=dict(form), headers=dict(headers))
        return reply.status_code, reply.get_data(as_text=True)

    def get(self, url: str, headers: Fields) -> tuple[int, str]:
        reply = self.client.get(url, headers=dict(headers))
        return reply.status_code, reply.get_data(as_text=True)
