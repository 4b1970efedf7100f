"""Call CAS exactly as Twilio would: post its webhooks, follow the TwiML, keep what was heard.

Rules this module keeps:
- the keys a caller presses travel only in the `Digits` field of a POST body: never in a URL,
  an event or a log line (PINs and SSNs are keyed);
- verbs run in document order; a `<Gather>` stops the run until keys or silence come;
- whatever this softphone cannot do as Twilio would raises a clear error instead of guessing.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from activation.keyed import is_digits
from ivr.phone_lines import (
    FlaskTransport,
    HttpTransport,
    SoftphoneError,
    Transport,
    WebhookError,
)

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
KEYS = frozenset("0123456789*#")
TEST_ACCOUNT_SID = "AC" + "0" * 32
USER_AGENT = "TwilioProxy/1.1"
TRANSFER_NOUNS = ("Number", "Client", "Queue", "Sip", "Conference", "Application")


class TwimlError(SoftphoneError):
    """CAS answered with a document Twilio would not accept."""


class UnsupportedVerb(TwimlError):
    """The document uses a verb this softphone does not carry out."""


class RedirectLoop(SoftphoneError):
    """Too many redirects without the caller pressing a key."""


class CallEnded(SoftphoneError):
    """The call is over, or no prompt is waiting for keys."""


@dataclass(frozen=True)
class Event:
    """One thing that happened on the call: say, play, pause, request, gather, transfer, end."""

    kind: str
    text: str


@dataclass(frozen=True)
class Transfer:
    """Where a `<Dial>` or `<Enqueue>` sent the caller, with what it carried along."""

    verb: str
    kind: str
    target: str
    url: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        carried = f" with {dict(self.params)}" if self.params else ""
        return f"{self.verb} to {self.kind} {self.target}{carried}"


@dataclass(frozen=True)
class Gather:
    """A `<Gather>` waiting for keys."""

    action: str
    method: str
    num_digits: int | None
    finish_on_key: str
    timeout: int
    action_on_empty_result: bool
    prompt: str

    def collect(self, keys: str) -> tuple[str, str]:
        """Split pressed keys as Twilio does into (Digits, FinishedOnKey)."""
        digits = ""
        for i, key in enumerate(keys):
            if self.finish_on_key and key == self.finish_on_key:
                done, rest = key, keys[i + 1 :]
                break
            digits += key
            if self.num_digits and len(digits) >= self.num_digits:
                done, rest = "", keys[i + 1 :]
                break
        else:
            return digits, ""  # the Gather times out after the last key
        if rest:
            # Said without the keys themselves: they may be a PIN.
            raise SoftphoneError(
                f"{len(rest)} key(s) pressed after the prompt had finished collecting"
            )
        return digits, done


@dataclass(frozen=True)
class Request:
    """A webhook request as sent, kept so it can be delivered again as Twilio retries."""

    method: str
    url: str
    form: Mapping[str, str]
    headers: Mapping[str, str]


class Softphone:
    """Place and take calls to CAS through a transport, signing as Twilio does."""

    def __init__(
        self,
        transport: Transport,
        url: str = "/voice",
        *,
        auth_token: str | None = None,
        public_url: str | None = None,
        account_sid: str = TEST_ACCOUNT_SID,
        pause_scale: float = 1.0,
        max_redirects: int = 50,
        listener: Callable[[Event], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        status_callback: str | None = None,
    ) -> None:
        self.transport = transport
        self.url = urljoin(transport.base_url, url)
        # Where the number's status callback points: told the final status of incoming calls.
        self.status_callback = urljoin(self.url, status_callback) if status_callback else None
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.public_url = public_url.rstrip("/") if public_url else None
        self.account_sid = account_sid
        self.pause_scale = pause_scale
        self.max_redirects = max_redirects
        self.listener = listener
        self.sleep = sleep

    def dial(self, from_: str, to: str) -> Call:
        """Call CAS's voice webhook from `from_` to `to` and run until the first prompt."""
        call = Call(self, "inbound", from_, to)
        call._start("POST", self.url, None)
        return call

    def answer(
        self,
        url: str | None = None,
        *,
        from_: str,
        to: str,
        method: str = "POST",
        twiml: str | None = None,
    ) -> Call:
        """Take an outbound call CAS placed: fetch its TwiML URL (or run inline TwiML)."""
        if (url is None) == (twiml is None):
            raise ValueError("give either the call's TwiML url or inline twiml")
        call = Call(self, "outbound-api", from_, to)
        call.status = "in-progress"
        call._start(method, urljoin(self.url, url) if url else self.url, twiml)
        return call

    def signed_url(self, url: str) -> str:
        """Return the URL Twilio signs: the public base URL + path (+ query) when one is set."""
        if not self.public_url:
            return url
        parts = urlsplit(url)
        return self.public_url + parts.path + (f"?{parts.query}" if parts.query else "")

    def sign(self, url: str, form: Mapping[str, str]) -> dict[str, str]:
        """Return the headers Twilio sends with a webhook to `url` carrying `form`."""
        headers = {"User-Agent": USER_AGENT, "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        if self.validator:
            signature = self.validator.compute_signature(self.signed_url(url), dict(form))
            headers["X-Twilio-Signature"] = signature
        return headers


class Call:
    """One call in progress: what was heard, what waits for keys, how it ended."""

    def __init__(self, phone: Softphone, direction: str, from_: str, to: str) -> None:
        self.phone = phone
        self.sid = "CA" + secrets.token_hex(16)
        self.direction = direction
        self.from_, self.to = from_, to
        self.status = "ringing"
        self.heard: list[str] = []
        self.played: list[str] = []
        self.events: list[Event] = []
        self.gather: Gather | None = None
        self.transfer: Transfer | None = None
        self.ended = False
        self.end_reason: str | None = None
        self.url = phone.url
        self.last_request: Request | None = None
        self.last_body = ""
        self._rest: list[ET.Element] = []
        self._input_mark = 0
        self._redirects = 0

    @property
    def last_prompt(self) -> str:
        """Return the text of the prompt now waiting for keys ('' when none waits)."""
        if self.gather is None:
            return ""
        return self.gather.prompt or " ".join(self.heard[self._input_mark :])

    def press(self, keys: str) -> str:
        """Answer the waiting prompt with keys; return what was heard until the next one."""
        gather = self._waiting()
        if not set(keys) <= KEYS:
            raise ValueError("a phone has keys 0-9, * and # only")
        digits, finished_on_key = gather.collect(keys)
        if not digits:
            return self.silence()  # as Twilio: finishOnKey alone is no input
        if gather.method != "POST":
            raise SoftphoneError("a Gather with method GET would put the keys in the URL")
        return self._step(
            lambda: self._fetch_and_run(
                gather.method, gather.action, {"Digits": digits, "FinishedOnKey": finished_on_key}
            )
        )

    def silence(self) -> str:
        """Let the waiting prompt time out; return what was heard until the next one."""
        gather = self._waiting()
        if gather.action_on_empty_result:
            return self._step(lambda: self._fetch_and_run(gather.method, gather.action, {}))
        rest = self._rest
        return self._step(lambda: self._run(self.url, rest))

    def hang_up(self) -> None:
        """Hang up as the caller."""
        if not self.ended:
            self._end("completed", "caller hung up")

    def redeliver(self) -> tuple[int, str]:
        """Send the last webhook again, unchanged, as Twilio's retry would; return the reply."""
        if self.last_request is None:
            raise CallEnded("nothing was sent yet")
        sent = self.last_request
        transport = self.phone.transport
        if sent.method == "GET":
            return transport.get(sent.url, sent.headers)
        return transport.post(sent.url, sent.form, sent.headers)

    def _start(self, method: str, url: str, twiml: str | None) -> None:
        if twiml is not None:
            self._step(lambda: self._run(url, self._parse(url, twiml)))
        else:
            self._step(lambda: self._fetch_and_run(method, url, {}))

    def _waiting(self) -> Gather:
        if self.ended:
            raise CallEnded(f"the call has ended: {self.end_reason}")
        if self.gather is None:
            raise CallEnded("no prompt is waiting for keys")
        return self.gather

    def _step(self, action: Callable[[], None]) -> str:
        mark = self._input_mark = len(self.heard)
        self.gather, self._rest, self._redirects = None, [], 0
        try:
            action()
        except SoftphoneError as exc:
            self._end("failed", f"application error: {exc}")
            raise
        return " ".join(self.heard[mark:])

    def _params(self) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": self.phone.account_sid,
            "From": self.from_,
            "To": self.to,
            "CallStatus": self.status,
            "Direction": self.direction,
            "ApiVersion": API_VERSION,
        }

    def _fetch_and_run(self, method: str, url: str, extra: Mapping[str, str]) -> None:
        self._run(*self._load(method, url, extra))

    def _load(
        self, method: str, url: str, extra: Mapping[str, str]
    ) -> tuple[str, list[ET.Element]]:
        url = urljoin(self.url, url)
        body = self._fetch(method.upper(), url, extra)
        if self.status == "ringing":
            self.status = "in-progress"  # CAS answered
        return url, self._parse(url, body)

    def _fetch(self, method: str, url: str, extra: Mapping[str, str]) -> str:
        form = self._params() | dict(extra)
        if method == "GET":
            # Twilio puts a GET's parameters in the query; callers never reach here with Digits.
            joiner = "&" if urlsplit(url).query else "?"
            target, form = url + joiner + urlencode(form), {}
        elif method == "POST":
            target = url
        else:
            raise TwimlError(f"method {method!r} is neither GET nor POST")
        headers = self.phone.sign(target, form)
        self.last_request = Request(method, target, form, headers)
        self._emit("request", f"{method} {url}")
        transport = self.phone.transport
        if method == "GET":
            status, body = transport.get(target, headers)
        else:
            status, body = transport.post(target, form, headers)
        log.debug("%s %s -> %s", method, url, status)
        if status != 200:
            raise WebhookError(method, url, status, body)
        self.last_body = body
        return body

    def _parse(self, url: str, body: str) -> list[ET.Element]:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise TwimlError(f"{url} answered something that is not TwiML: {exc}") from exc
        if root.tag != "Response":
            raise TwimlError(f"{url} answered <{root.tag}>, not <Response>")
        self.url = url
        return list(root)

    def _run(self, url: str, verbs: list[ET.Element]) -> None:
        """Carry out verbs in order until a prompt waits or the call ends."""
        verbs = list(verbs)
        while verbs:
            verb = verbs.pop(0)
            if verb.tag in ("Say", "Play", "Pause"):
                self._sound(verb)
            elif verb.tag == "Gather":
                self._start_gather(url, verb, verbs)
                return
            elif verb.tag == "Redirect":
                self._redirects += 1
                if self._redirects > self.phone.max_redirects:
                    raise RedirectLoop(
                        f"more than {self.phone.max_redirects} redirects without a key press"
                        f" (last at {url})"
                    )
                target = urljoin(url, (verb.text or "").strip() or url)
                url, verbs = self._load(verb.get("method", "POST"), target, {})
            elif verb.tag in ("Dial", "Enqueue"):
                self.transfer = _dial(verb) if verb.tag == "Dial" else _enqueue(verb)
                self._emit("transfer", str(self.transfer))
                self._end("transferred", f"transferred: {self.transfer}")
                return
            elif verb.tag == "Hangup":
                self._end("completed", "CAS hung up")
                return
            elif verb.tag == "Reject":
                reason = verb.get("reason", "rejected")
                self._end("busy" if reason == "busy" else "no-answer", f"CAS rejected ({reason})")
                return
            else:
                raise UnsupportedVerb(f"<{verb.tag}> from {url} is not a verb this softphone runs")
        self._end("completed", "no more TwiML: Twilio hangs up")

    def _sound(self, verb: ET.Element) -> None:
        if verb.tag == "Say":
            text = " ".join("".join(verb.itertext()).split())
            if text:
                self.heard.append(text)
                self._emit("say", text)
        elif verb.tag == "Play":
            media = (verb.text or "").strip()
            if media:
                self.played.append(media)
            self._emit("play", media or f"tones {verb.get('digits', '')}")
        else:
            seconds = _number(verb, "length", 1)
            self._emit("pause", str(seconds))
            if seconds * self.phone.pause_scale > 0:
                self.phone.sleep(seconds * self.phone.pause_scale)

    def _start_gather(self, url: str, verb: ET.Element, rest: list[ET.Element]) -> None:
        if "dtmf" not in verb.get("input", "dtmf").split():
            raise UnsupportedVerb(f"<Gather input={verb.get('input')!r}>: only dtmf is keyed")
        finish_on_key = verb.get("finishOnKey", "#")
        if finish_on_key and finish_on_key not in KEYS:
            raise TwimlError(f"finishOnKey {finish_on_key!r} is not a key")
        mark = len(self.heard)
        for nested in verb:
            if nested.tag not in ("Say", "Play", "Pause"):
                raise TwimlError(f"<{nested.tag}> cannot be nested in <Gather>")
            self._sound(nested)
        timeout = verb.get("timeout", "5")
        self.gather = Gather(
            action=urljoin(url, verb.get("action") or url),
            method=verb.get("method", "POST").upper(),
            num_digits=_number(verb, "numDigits", 0) or None,
            finish_on_key=finish_on_key,
            timeout=int(timeout) if is_digits(timeout, 1, 4) else 5,
            action_on_empty_result=verb.get("actionOnEmptyResult", "false").lower() == "true",
            prompt=" ".join(self.heard[mark:]),
        )
        self._rest = rest
        self._emit("gather", self.last_prompt)

    def _end(self, status: str, reason: str) -> None:
        if self.ended:
            return
        self.ended, self.status, self.end_reason = True, status, reason
        self.gather, self._rest = None, []
        self._emit("end", reason)
        callback = self.phone.status_callback
        if callback and self.direction == "inbound":
            # As Twilio does once a call is over, whoever ended it.
            form = self._params()
            self.phone.transport.post(callback, form, self.phone.sign(callback, form))

    def _emit(self, kind: str, text: str) -> None:
        event = Event(kind, text)
        self.events.append(event)
        if self.phone.listener:
            self.phone.listener(event)


def _number(verb: ET.Element, name: str, default: int) -> int:
    value = verb.get(name)
    if value is None:
        return default
    if not is_digits(value, 1, 6):
        raise TwimlError(f"<{verb.tag} {name}={value!r}> is not a whole number")
    return int(value)


def _dial(verb: ET.Element) -> Transfer:
    attributes = dict(verb.attrib)
    nouns = [noun for noun in verb if noun.tag in TRANSFER_NOUNS]
    if not nouns:
        return Transfer("Dial", "number", (verb.text or "").strip(), attributes=attributes)
    noun = nouns[0]
    target = (noun.text or "").strip()
    for child in noun:
        if child.tag in ("Identity", "ApplicationSid") and child.text:
            target = child.text.strip()
    url = noun.get("url")
    params: dict[str, Any] = dict(parse_qsl(urlsplit(url).query)) if url else {}
    params |= {p.get("name", ""): p.get("value", "") for p in noun.iter("Parameter")}
    return Transfer("Dial", noun.tag.lower(), target, url, params, attributes)


def _enqueue(verb: ET.Element) -> Transfer:
    params: dict[str, Any] = {}
    task = verb.find("Task")
    if task is not None and (task.text or "").strip():
        try:
            loaded = json.loads(task.text or "")
        except json.JSONDecodeError as exc:
            raise TwimlError(f"<Task> is not JSON: {exc}") from exc
        params = loaded if isinstance(loaded, dict) else {"task": loaded}
    name = (verb.text or "").strip() or verb.get("workflowSid", "")
    return Transfer("Enqueue", "queue", name, verb.get("waitUrl"), params, dict(verb.attrib))


__all__ = [
    "KEYS",
    "TEST_ACCOUNT_SID",
    "Call",
    "CallEnded",
    "Event",
    "FlaskTransport",
    "HttpTransport",
    "RedirectLoop",
    "Softphone",
    "SoftphoneError",
    "Transfer",
    "Transport",
    "TwimlError",
    "UnsupportedVerb",
    "WebhookError",
]
