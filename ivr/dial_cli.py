"""`cas dial`: a terminal softphone that calls CAS as Twilio would."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TextIO
from urllib.parse import urlsplit

import click
import requests

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
    default="http://127.0.0.1:8000",
    show_default=True,
    help="CAS server (its /voice webhook is called) or the full webhook URL.",
)
@click.option("--from", "from_", default="+15005550006", show_default=True, help="Caller.")
@click.option("--to", default="+15005550000", show_default=True, help="Number dialled.")
@click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="Sign webhooks with this token.")
@click.option("--public-url", envvar="CAS_PUBLIC_URL", help="Base URL the signature covers.")
@click.option("--account-sid", envvar="TWILIO_ACCOUNT_SID", help="AccountSid to send.")
@click.option("--speak", is_flag=True, help="Speak the prompts through espeak-ng.")
@click.option(
    "--pause-scale", type=float, default=1.0, show_default=True, help="Scale <Pause> lengths."
)
@click.option(
    "--answer-callback",
    metavar="PHONE_URL",
    help="Instead of dialling, answer the call-back CAS placed (the demo prints PHONE_URL).",
)
def dial(
    url: str,
    from_: str,
    to: str,
    auth_token: str | None,
    public_url: str | None,
    account_sid: str | None,
    speak: bool,
    pause_scale: float,
    answer_callback: str | None,
) -> None:
    """Call CAS from the terminal: read the prompts, key the answers."""
    if answer_callback:
        take_callback(answer_callback, auth_token, pause_scale, speak)
        return
    webhook = voice_url(url)
    parts = urlsplit(webhook)
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
        raise click.ClickException(f"the call failed: {exc}") from exc
    click.echo(f"Call ended: {call.end_reason}.")


def take_callback(phone_url: str, auth_token: str | None, pause_scale: float, speak: bool) -> None:
    """Answer the oldest call-back waiting at the demo's telephone network, as the agent."""
    network = phone_url.rstrip("/")
    try:
        ring = requests.post(f"{network}/phone/ring", timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"the telephone network at {network} did not answer") from exc
    if ring.status_code == 404:
        raise click.ClickException("no call-back is waiting; CAS places it when the MID is active")
    placed = ring.json()
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
        raise click.ClickException(f"the call failed: {exc}") from exc
    finally:
        requests.post(
            f"{network}/phone/{placed['sid']}/status",
            data={"Status": "completed", "Duration": str(int(time.monotonic() - started))},
            timeout=10,
        )
    click.echo(f"Call ended: {call.end_reason}.")
