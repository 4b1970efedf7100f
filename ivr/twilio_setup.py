"""`cas twilio-setup`: point a Twilio number's calls at CAS through Twilio's REST API.

Twilio keeps, per number (an IncomingPhoneNumber), the URL it fetches when a call comes in,
the fallback URL it tries when that one fails, and the URL it tells how the call went. This
command sets all three to CAS's endpoints under one public https URL, with POST, and clears a
TwiML App that would otherwise take the number's calls instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import click
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.response import Response
from twilio.rest import Client

from activation.settings import Settings
from ivr.telephony import rest_client

VOICE_PATH = "/voice"
FALLBACK_PATH = "/voice/fallback"
STATUS_PATH = "/voice/status"
E164 = re.compile(r"\+[1-9]\d{7,14}")


class SetupRefused(Exception):
    """The number cannot be set up as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Change:
    """One setting of the number: what it was and what it becomes."""

    label: str
    before: str | None
    after: str


def public_base(url: str) -> str:
    """Return the public URL without its trailing slash, or raise SetupRefused."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SetupRefused(
            f"--public-url must be an https URL Twilio can reach (got {url!r}): put a TLS "
            "proxy in front of CAS and give its address"
        )
    if parts.query or parts.fragment:
        raise SetupRefused("--public-url takes a base URL, without ?query or #fragment")
    return url.rstrip("/")


def wanted(base: str) -> dict[str, str]:
    """Return the number's fields (as twilio's update() names them) that send calls to CAS."""
    return {
        "voice_url": base + VOICE_PATH,
        "voice_method": "POST",
        "voice_fallback_url": base + FALLBACK_PATH,
        "voice_fallback_method": "POST",
        "status_callback": base + STATUS_PATH,
        "status_callback_method": "POST",
    }


def set_up_number(client: Client, number: str, base: str, dry_run: bool = False) -> list[Change]:
    """Point the account's `number` at CAS under `base`; return what changed (or would)."""
    if not E164.fullmatch(number):
        raise SetupRefused(f"--number must be in E.164 form, like +15005550006 (got {number!r})")
    # Twilio's filter matches parts of numbers too: keep the exact one.
    found = [n for n in client.incoming_phone_numbers.list(phone_number=number, limit=20)]
    owned = next((n for n in found if n.phone_number == number), None)
    if owned is None:
        raise SetupRefused(
            f"account {client.account_sid} has no number {number}: buy or port it into this "
            "account first (or check TWILIO_ACCOUNT_SID)"
        )
    if owned.trunk_sid:
        raise SetupRefused(
            f"{number} belongs to the SIP trunk {owned.trunk_sid}: Twilio sends its calls to "
            "the trunk and ignores voice URLs. Take it off the trunk first."
        )
    fields = wanted(base)
    changes = [
        Change("voice URL", owned.voice_url, f"POST {fields['voice_url']}"),
        Change("fallback URL", owned.voice_fallback_url, f"POST {fields['voice_fallback_url']}"),
        Change("status callback", owned.status_callback, f"POST {fields['status_callback']}"),
    ]
    if owned.voice_application_sid:
        # A TwiML App on the number would take its calls in place of the voice URL.
        changes.append(Change("TwiML App", owned.voice_application_sid, "none"))
        fields["voice_application_sid"] = ""
    if not dry_run:
        client.incoming_phone_numbers(owned.sid).update(**fields)
    return changes


def _refusal(exc: Exception, api: str) -> str:
    """Say what Twilio answered (or that it did not), never echoing a credential."""
    if isinstance(exc, TwilioRestException):
        status, code, message = exc.status, exc.code, exc.msg
    else:
        # A list() page Twilio refused comes as TwilioException("Unable to fetch page", reply).
        reply = exc.args[1] if len(exc.args) > 1 else None
        if not isinstance(reply, Response):
            return f"Twilio's API at {api} did not answer ({type(exc).__name__})"
        try:
            body = json.loads(reply.text)
        except ValueError:
            body = {}
        status, code, message = reply.status_code, body.get("code"), body.get("message", "")
    hint = " (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)" if status == 401 else ""
    return f"Twilio refused: HTTP {status}, error {code}: {message}{hint}"


@click.command("twilio-setup")
@click.option("--number", required=True, help="The account's Twilio number, E.164 (+1…).")
@click.option(
    "--public-url",
    envvar="CAS_PUBLIC_URL",
    required=True,
    help="The https URL at which Twilio reaches CAS (CAS_PUBLIC_URL by default).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
def twilio_setup(number: str, public_url: str, dry_run: bool) -> None:
    """Send a Twilio number's calls to CAS: voice URL, fallback URL and status callback.

    The account is TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, reached at CAS_TWILIO_API_URL
    (Twilio's API by default), as `cas serve` uses them.
    """
    settings = Settings.from_env()
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise click.UsageError(
            "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the account that owns the number"
        )
    api = settings.twilio_api_url
    try:
        base = public_base(public_url)
        client = rest_client(settings.twilio_account_sid, settings.twilio_auth_token, api)
        changes = set_up_number(client, number, base, dry_run)
    except SetupRefused as refused:
        raise click.ClickException(str(refused)) from None
    except (TwilioException, requests.RequestException) as exc:
        raise click.ClickException(_refusal(exc, api)) from None
    verb = "would send" if dry_run else "now sends"
    click.echo(f"{number} {verb} its calls to CAS:")
    for change in changes:
        click.echo(f"  {change.label:<16}{change.after}   (was: {change.before or 'none'})")
    if settings.public_url and settings.public_url.rstrip("/") != base:
        click.echo(
            f"Warning: CAS_PUBLIC_URL here is {settings.public_url}, not {base}: the server "
            "checks Twilio's signatures against CAS_PUBLIC_URL, so they must agree.",
            err=True,
        )
    click.echo(
        f"On the CAS server set CAS_PUBLIC_URL={base} (the URL Twilio signs), or "
        "CAS_TRUSTED_PROXIES to the number of proxies in front of it."
    )
