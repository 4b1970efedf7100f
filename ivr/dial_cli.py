"""`cas dial`: a terminal softphone that calls CAS as Twilio would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import click
import requests
from click.core import ParameterSource

from ivr.demo_folder import DemoCard
from ivr.phone_lines import WebhookError
from ivr.softphone import (
    KEYS,
    TEST_ACCOUNT_SID,
    Call,
    Event,
    HttpTransport,
    Softphone,
    SoftphoneError,
)

HANG_UP = {"h", "q", "hangup", "quit"}
VOICE_PATH = "/voice"
DEFAULT_URL = "http://127.0.0.1:8000"
FROM_CARD = "demo"  # --answer-callback without a PHONE_URL: the demo's network


def voice_url(url: str) -> str:
    """Return the voice webhook URL: `url` itself, or `url` + /voice when it names no path."""
    return url.rstrip("/") + VOICE_PATH if urlsplit(url).path in ("", "/") else url


def speaker(enabled: bool) -> Callable[[str], None] | None:
    """Return a function that speaks text through espeak-ng, or None (saying why when asked)."""
    if not enabled:
        return None
    program = shutil.which("espeak-ng")
    if program is None:
        click.echo("espeak-ng is not installed: showing the prompts as text only.", err=True)
        return None

    def speak(text: str) -> None:
        # Text goes on stdin so a prompt can never be read as an option.
        subprocess.run([program, "--stdin"], input=text, text=True, check=False)

    return speak


def show(speak: Callable[[str], None] | None) -> Callable[[Event], None]:
    """Return a listener that prints (and speaks) what the caller hears."""

    def listener(event: Event) -> None:
        if event.kind == "say":
            click.echo(f"CAS: {event.text}")
            if speak:
                speak(event.text)
        elif event.kind == "play":
            click.echo(f"[plays {event.text}]")
        elif event.kind == "pause":
            click.echo(f"[{event.text} s of silence]")

    return listener


def converse(call: Call, keyboard: TextIO, echo: bool) -> None:
    """Answer each prompt with a line from the keyboard until the call ends."""
    while not call.ended:
        click.echo("keys (empty = silence, h = hang up)> ", nl=False)
        line = keyboard.readline()
        if not line:
            click.echo("")
            call.hang_up()
            break
        keys = line.strip()
        if echo:
            # Piped keys are not echoed by a terminal; show how many, never which (PINs).
            click.echo(f"({len(keys)} key{'s' * (len(keys) != 1)})" if keys else "(silence)")
        if keys.lower() in HANG_UP:
            call.hang_up()
        elif not set(keys) <= KEYS:
            click.echo("A phone has keys 0-9, * and # only.")
        elif keys:
            try:
                call.press(keys)
            except SoftphoneError as exc:
                if call.ended:
                    raise
                click.echo(str(exc))
        else:
            call.silence()


@click.command("dial")
@click.option(
    "--url",
    envvar="CAS_URL",
    help="CAS server (its /voice webhook is called) or the full webhook URL  "
    f"[default: the demo's, else {DEFAULT_URL}].",
)
@click.option("--from", "from_", default="+15005550006", show_default=True, help="Caller.")
@click.option("--to", default="+15005550000", show_default=True, help="Number dialled.")
@click.option(
    "--auth-token",
    envvar="TWILIO_AUTH_TOKEN",
    help="Sign webhooks with the server's Twilio auth token  [default: the demo's].",
)
@click.option("--public-url", envvar="CAS_PUBLIC_URL", help="Base URL the signature covers.")
@click.option("--account-sid", envvar="TWILIO_ACCOUNT_SID", help="AccountSid to send.")
@click.option("--speak", is_flag=True, help="Speak the prompts through espeak-ng.")
@click.option(
    "--pause-scale", type=float, default=1.0, show_default=True, help="Scale <Pause> lengths."
)
@click.option(
    "--answer-callback",
    is_flag=False,
    flag_value=FROM_CARD,
    metavar="[PHONE_URL]",
    help="Instead of dialling, answer the call-back CAS placed (PHONE_URL: the demo's).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds --answer-callback waits for CAS to place the call-back.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the demo keeps its files (its URL and token)  [default: CAS_DATA_DIR, else var].",
)
def dial(
    url: str | None,
    from_: str,
    to: str,
    auth_token: str | None,
    public_url: str | None,
    account_sid: str | None,
    speak: bool,
    pause_scale: float,
    answer_callback: str | None,
    wait: float,
    data_dir: str | None,
) -> None:
    """Call CAS from the terminal: read the prompts, key the answers.

    Run from the folder where `cas demo` runs, it finds the demo's URL and auth token.
    """
    card = DemoCard.read(Path(data_dir or os.environ.get("CAS_DATA_DIR") or "var"))
    if answer_callback:
        phone_url = card.phone_url if card and answer_callback == FROM_CARD else answer_callback
        if phone_url == FROM_CARD:
            raise click.UsageError(
                "no demo found here to take the call-back from: give its PHONE_URL "
                "(`cas demo` prints it) or run this in the demo's folder"
            )
        token = auth_token or (card.auth_token if card else None)
        if card and answer_callback == FROM_CARD and not _typed("auth_token"):
            token = card.auth_token  # the demo's network: the demo's token, not the shell's
        take_callback(phone_url, token, pause_scale, speak, wait)
        return
    webhook = voice_url(url or (card.url if card else DEFAULT_URL))
    parts = urlsplit(webhook)
    if card and _same_server(webhook, card.url):
        # The demo signs over its own URL with its own token: a deployment's TWILIO_AUTH_TOKEN
        # or CAS_PUBLIC_URL left in this shell is not the demo's; only options typed here win.
        auth_token = auth_token if _typed("auth_token") else card.auth_token
        public_url = public_url if _typed("public_url") else None
    phone = Softphone(
        HttpTransport(f"{parts.scheme}://{parts.netloc}"),
        webhook,
        auth_token=auth_token or None,
        public_url=public_url or None,
        pause_scale=pause_scale,
        listener=show(speaker(speak)),
        account_sid=account_sid or TEST_ACCOUNT_SID,
    )
    keyboard = sys.stdin
    click.echo(f"Calling {webhook} from {from_} to {to} ...")
    try:
        call = phone.dial(from_=from_, to=to)
        converse(call, keyboard, echo=not keyboard.isatty())
    except SoftphoneError as exc:
        raise click.ClickException(_why_it_failed(exc, bool(auth_token))) from exc
    click.echo(f"Call ended: {call.end_reason}.")


def _typed(option: str) -> bool:
    """Whether the option was given on the command line (not taken from the environment)."""
    source = click.get_current_context().get_parameter_source(option)
    return source is ParameterSource.COMMANDLINE


def _same_server(webhook: str, url: str) -> bool:
    ours, theirs = urlsplit(webhook), urlsplit(url)
    return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)


def _why_it_failed(exc: SoftphoneError, signed: bool) -> str:
    """Say why the call failed, and for a refused signature what to do about it."""
    if isinstance(exc, WebhookError) and exc.status is None:
        return f"the call failed: {exc}. Is CAS running there? (`cas demo` starts the demo)"
    if not (isinstance(exc, WebhookError) and exc.status == 403):
        return f"the call failed: {exc}"
    if not signed:
        return (
            f"the call failed: {exc}. CAS checks Twilio's signature on every webhook: pass the "
            "server's Twilio auth token with --auth-token TOKEN (or TWILIO_AUTH_TOKEN=TOKEN). "
            "For `cas demo`, run this in the demo's folder (it reads DATA_DIR/demo.json) or "
            "give --data-dir."
        )
    return (
        f"the call failed: {exc}. CAS did not accept the signature: check --auth-token, and "
        "give --public-url when the server's CAS_PUBLIC_URL is another URL than --url."
    )


def take_callback(
    phone_url: str, auth_token: str | None, pause_scale: float, speak: bool, wait: float = 0
) -> None:
    """Answer the oldest call-back waiting at the demo's telephone network, as the agent."""
    network = phone_url.rstrip("/")
    placed = _ring(network, wait)
    parts = urlsplit(placed["url"])
    phone = Softphone(
        HttpTransport(f"{parts.scheme}://{parts.netloc}"),
        placed["url"],
        auth_token=auth_token or None,
        pause_scale=pause_scale,
        listener=show(speaker(speak)),
    )
    click.echo(f"Call-back from {placed['from']} to {placed['to']}: answering ...")
    requests.post(
        f"{network}/phone/{placed['sid']}/status", data={"Status": "in-progress"}, timeout=10
    )
    started = time.monotonic()
    try:
        call = phone.answer(
            url=placed["url"], from_=placed["from"], to=placed["to"], method=placed["method"]
        )
        converse(call, sys.stdin, echo=not sys.stdin.isatty())
    except SoftphoneError as exc:
        raise click.ClickException(_why_it_failed(exc, bool(auth_token))) from exc
    finally:
        requests.post(
            f"{network}/phone/{placed['sid']}/status",
            data={"Status": "completed", "Duration": str(int(time.monotonic() - started))},
            timeout=10,
        )
    click.echo(f"Call ended: {call.end_reason}.")


def _ring(network: str, wait: float) -> dict[str, str]:
    """Wait up to `wait` seconds for a call-back to ring at the network; return the call."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            ring = requests.post(f"{network}/phone/ring", timeout=10)
        except requests.RequestException as exc:
            raise click.ClickException(
                f"the telephone network at {network} did not answer"
            ) from exc
        if ring.status_code == 200:
            placed: dict[str, str] = ring.json()
            return placed
        if ring.status_code != 404:
            raise click.ClickException(
                f"the telephone network at {network} answered HTTP {ring.status_code}"
            )
        if time.monotonic() >= deadline:
            raise click.ClickException(
                f"no call-back is waiting (waited {wait:g} s): CAS places it once the switch "
                "has made the number active; try again, or give --wait SECONDS"
            )
        if not told:
            click.echo(f"Waiting up to {wait:g} s for CAS to place the call-back ...")
            told = True
        time.sleep(min(0.5, max(deadline - time.monotonic(), 0)))
