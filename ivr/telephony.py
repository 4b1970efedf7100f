"""The telephony port's Twilio adapter: call-backs placed through Twilio's REST API.

CAS_TWILIO_API_URL points the client at another base URL (the fake of ivr/fake_twilio.py, or
a proxy): twilio-python builds absolute https://api.twilio.com URLs, so its HTTP client, the
library's own extension point, sends each request to the same path on that base instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from activation.parties.ports import TelephonyUnavailable

TWILIO_API_URL = "https://api.twilio.com"
# Progress reports are kept on the call-back's row; only `completed` (or a failure) settles it.
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client, sending every request to the same path on another base URL."""

    def __init__(self, api_url: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        target = self.api_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, target, *args, **kwargs)


def rest_client(
    account_sid: str, auth_token: str, api_url: str = TWILIO_API_URL, timeout: float = 10.0
) -> Client:
    """Return twilio's REST Client for an account, reaching Twilio's API at `api_url`."""
    if api_url.rstrip("/") == TWILIO_API_URL:
        http_client: TwilioHttpClient = TwilioHttpClient(timeout=timeout)
    else:
        http_client = BaseUrlHttpClient(api_url, timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


class TwilioTelephony:
    """Places outbound calls with twilio.rest.Client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        caller_id: str,
        api_url: str = TWILIO_API_URL,
        timeout: float = 10.0,
    ) -> None:
        self.client = rest_client(account_sid, auth_token, api_url, timeout)
        self.caller_id = caller_id

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        """Ask Twilio to call `to` and run the TwiML at `url`; return the call SID."""
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.caller_id,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=STATUS_EVENTS,
                timeout=30,  # seconds of ringing before no-answer
            )
        except TwilioRestException as exc:
            raise TelephonyUnavailable(f"Twilio refused the call: {exc.status} {exc.msg}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyUnavailable(f"Twilio not reached: {type(exc).__name__}") from exc
        if not call.sid:
            raise TelephonyUnavailable("Twilio answered without a call SID")
        return call.sid
