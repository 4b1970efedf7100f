"""The TL1 dialect: a session that speaks tl1_codec over a switch's lines.

Commands come from the switch row's format strings (``DEFAULT_COMMANDS`` when it gives none),
filled with ``tid`` (the switch name), ``name`` and ``secret`` (log-on), ``mid``, ``esn``,
``features`` and ``ctag`` (a correlation tag unique on the line). Besides the commands of
every dialect, a row may give ``logon``, ``logoff`` and ``keepalive`` templates.

The subscriber's life in Telcordia verbs: ``ENT-SUB`` enters it, ``ED-SUB`` edits its handset
(``ESN=``) and/or features (``FEAT=``; a parameter not changed is left out of the command),
``RMV-SUB`` removes it from service (the line is barred: primary state ``OOS``), ``RST-SUB``
restores it to service (``IS``), ``DLT-SUB`` deletes it and ``RTRV-SUB`` retrieves one MID or
``ALL``, each subscriber as ``"MID:ESN=...,FEAT=...:PST"``, PST being ``IS`` or ``OOS``.

Expected-response patterns: for the changes, log-on and keep-alive the pattern must match the
answer's text (its status word, then its body lines); for query and dump it is matched against
each quoted body line (unquoted), and its named groups ``mid``, ``esn``, ``features`` and
``state`` give the subscriber. A ``DENY`` raises ``SwitchDenied`` with the switch's error code
and reason (``SAOS`` for a line already out of service, ``SAIS`` already in service); a query
the switch denies with ``IENE`` (no such entity) returns None.
Acknowledgements and autonomous messages are never taken for the answer: autonomous messages
are kept in ``autonomous`` (the last few) and a gap in their tags is logged.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Iterator

from switch_adapters.codec import CodecError
from switch_adapters.line import Line
from switch_adapters.port import (
    ACTIVE,
    DEFAULT_DEADLINE,
    SUSPENDED,
    CommandTemplate,
    Garbled,
    Record,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
)
from switch_adapters.session import LineSession
from switch_adapters.tl1_codec import (
    Ack,
    AtagGap,
    Autonomous,
    Command,
    Event,
    Response,
    TL1Client,
    parse_command,
    unquoted_text,
)

log = logging.getLogger(__name__)

SUBSCRIBER_LINE = (
    r"^(?P<mid>\d{10}):ESN=(?P<esn>[0-9A-Fa-f]+),FEAT=(?P<features>[A-Za-z0-9&+._-]*)"
    r":(?P<state>IS|OOS)$"
)
DEFAULT_COMMANDS: dict[str, CommandTemplate] = {
    "logon": CommandTemplate("ACT-USER:{tid}:{name}:{ctag}::{secret};", r"^COMPLD"),
    "logoff": CommandTemplate("CANC-USER:{tid}:{name}:{ctag};", r"^COMPLD"),
    "keepalive": CommandTemplate("RTRV-HDR:{tid}::{ctag};", r"^COMPLD"),
    "insert": CommandTemplate("ENT-SUB:{tid}:{mid}:{ctag}::ESN={esn},FEAT={features};", r"^COMPLD"),
    "modify": CommandTemplate("ED-SUB:{tid}:{mid}:{ctag}::ESN={esn},FEAT={features};", r"^COMPLD"),
    "suspend": CommandTemplate("RMV-SUB:{tid}:{mid}:{ctag};", r"^COMPLD"),
    "restore": CommandTemplate("RST-SUB:{tid}:{mid}:{ctag};", r"^COMPLD"),
    "delete": CommandTemplate("DLT-SUB:{tid}:{mid}:{ctag};", r"^COMPLD"),
    "query": CommandTemplate("RTRV-SUB:{tid}:{mid}:{ctag};", SUBSCRIBER_LINE),
    "dump": CommandTemplate("RTRV-SUB:{tid}:ALL:{ctag};", SUBSCRIBER_LINE),
}
# The subscriber line before lines had a state: switch rows copied it for query and dump.
FORMER_SUBSCRIBER_LINE = (
    r"^(?P<mid>\d{10}):ESN=(?P<esn>[0-9A-Fa-f]+),FEAT=(?P<features>[A-Za-z0-9&+._-]*)$"
)
FORMER_COMMANDS = {
    "query": (CommandTemplate("RTRV-SUB:{tid}:{mid}:{ctag};", FORMER_SUBSCRIBER_LINE),),
    "dump": (CommandTemplate("RTRV-SUB:{tid}:ALL:{ctag};", FORMER_SUBSCRIBER_LINE),),
}
STATES = {"IS": ACTIVE, "OOS": SUSPENDED}
_WHOLE_LINES = re.compile(SUBSCRIBER_LINE, re.MULTILINE)
NOT_FOUND = frozenset({"IENE"})
ACK_REASONS = {
    "NA": "command not acknowledged",
    "NG": "command not good",
    "RL": "switch busy, repeat later",
}


class TL1Session(LineSession):
    """A logged-on TL1 session to one switch."""

    DIALECT = "tl1"
    DEFAULT_COMMANDS = DEFAULT_COMMANDS
    FORMER_COMMANDS = FORMER_COMMANDS
    STATES = STATES

    def __init__(
        self,
        defn: SwitchDefinition,
        deadline: float = DEFAULT_DEADLINE,
        *,
        keepalive_interval: float | None = None,
    ) -> None:
        self._codec = TL1Client()
        self._events: deque[Event] = deque()
        self._ctags = itertools.count(0)
        self.autonomous: deque[Autonomous] = deque(maxlen=100)
        self.atag_gaps: list[AtagGap] = []
        super().__init__(defn, deadline, keepalive_interval=keepalive_interval)

    # -- the dialect's exchanges ---------------------------------------------------------------

    def _greet(self, line: Line, until: float) -> None:
        self._codec = TL1Client()
        self._events.clear()
        if self.defn.logon_name:
            self._simple(line, "logon", until)
        else:
            self._simple(line, "keepalive", until)

    def _keepalive(self, line: Line, until: float) -> None:
        self._simple(line, "keepalive", until)

    def _log_off(self, line: Line, until: float) -> None:
        if self.defn.logon_name:
            self._simple(line, "logoff", until)

    def _insert(self, line: Line, subscriber: Subscriber, until: float) -> None:
        values = {"mid": subscriber.mid, "esn": subscriber.esn, "features": subscriber.features}
        self._simple(line, "insert", until, **values)

    def _modify(
        self, line: Line, mid: str, esn: str | None, features: str | None, until: float
    ) -> None:
        self._simple(line, "modify", until, mid=mid, esn=esn, features=features)

    def _suspend(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "suspend", until, mid=mid)

    def _restore(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "restore", until, mid=mid)

    def _delete(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "delete", until, mid=mid)

    def _query(self, line: Line, mid: str, until: float) -> Subscriber | None:
        ctag = self._send(line, "query", mid=mid)
        pattern = self.expect("query")
        found: Subscriber | None = None
        denied: Response | None = None
        for part in self._parts(line, ctag, until):
            if part.status == "DENY":
                denied = part
                continue
            for text in part.data:
                match = pattern.search(text)
                if match is None:
                    raise Garbled(self.switch, f"query answer not as expected: {text!r:.80}")
                held = self.subscriber_from(match)
                if held.mid == mid:
                    found = held
        if denied is not None:
            if denied.error_code in NOT_FOUND:
                return None
            raise self._denial(denied)
        return found

    def _dump_records(self, line: Line, part_seconds: float) -> Iterator[list[Record]]:
        ctag = self._send(line, "dump")
        pattern = self.expect("dump")
        # The dialect's own pattern matches one whole line and has the groups mid, esn,
        # features and state in that order: a part can be matched in one pass over its text.
        # A row's own pattern is matched line by line.
        whole = _WHOLE_LINES if self.template("dump").expect == SUBSCRIBER_LINE else None
        parts = self._parts(line, ctag, time.monotonic() + part_seconds, part_seconds)
        for part in parts:
            if part.status == "DENY":
                raise self._denial(part)
            records: list[Record] | None = None
            if whole is not None and (text := unquoted_text(part.lines)) is not None:
                records = self.with_states(whole.findall(text))
            # Every line matched, each on its own (the pattern is anchored at both ends and a
            # match spanning lines would leave fewer matches than lines); else line by line.
            if records is None or len(records) != len(part.lines):
                records = []
                for text in part.data:
                    match = pattern.search(text)
                    if match is None:
                        if records:  # what the part did show is still compared
                            yield records
                        raise Garbled(self.switch, f"dump line not as expected: {text!r:.80}")
                    records.append(self.record_from(match))
            yield records

    # -- one command, its answer ---------------------------------------------------------------

    def _simple(self, line: Line, command: str, until: float, **values: str | None) -> Response:
        """Send a command and check its answer against the expected pattern."""
        ctag = self._send(line, command, **values)
        parts = list(self._parts(line, ctag, until))
        last = parts[-1]
        if last.status == "DENY":
            raise self._denial(last)
        text = "\n".join([last.status, *(body for part in parts for body in part.lines)])
        if not self.expect(command).search(text):
            raise SwitchDenied(self.switch, last.status, f"{command} answer not as expected")
        return last

    def _send(self, line: Line, command: str, **values: str | None) -> str:
        ctag = str(next(self._ctags) % 999_999 + 1)
        text = self.command_text(command, ctag=ctag, **values)
        parsed = parse_command(text.strip().removesuffix(";").encode("ascii", "replace"))
        if not isinstance(parsed, Command) or parsed.ctag != ctag or not text.endswith(";"):
            raise ValueError(f"{self.switch}: {command} format gives no TL1 command: {text!r}")
        line.write(text.encode("ascii") + b"\r\n")
        return ctag

    def _parts(
        self, line: Line, ctag: str, until: float, part_seconds: float | None = None
    ) -> Iterator[Response]:
        """Yield the parts of the response to ctag, skipping everything else on the line."""
        while True:
            event = self._next_event(line, until)
            if isinstance(event, AtagGap):
                self.atag_gaps.append(event)
                log.warning(
                    "%s: autonomous messages lost: tag %d came, %d expected",
                    self.switch,
                    event.received,
                    event.expected,
                )
                continue
            if isinstance(event, Autonomous):
                self.autonomous.append(event)
                log.info("%s: %s %s %s", self.switch, event.alarm, event.atag, event.verb)
                continue
            if event.ctag != ctag:
                log.debug("%s: skipping a late answer to %s", self.switch, event.ctag)
                continue
            if part_seconds is not None:
                until = time.monotonic() + part_seconds
            if isinstance(event, Ack):
                if event.in_progress:
                    continue
                if event.code == "OK":
                    yield Response(self.switch, ctag, "COMPLD")
                    return
                raise SwitchDenied(self.switch, event.code, ACK_REASONS[event.code])
            yield event
            if event.final:
                return

    def _next_event(self, line: Line, until: float) -> Event:
        while not self._events:
            data = line.read(until)
            try:
                self._events.extend(self._codec.feed(data))
            except CodecError as exc:
                raise Garbled(self.switch, str(exc)) from exc
        return self._events.popleft()

    def _denial(self, response: Response) -> SwitchDenied:
        code = response.error_code or response.status
        return SwitchDenied(self.switch, code, response.comment or "no reason given")


__all__ = ["DEFAULT_COMMANDS", "SUBSCRIBER_LINE", "TL1Session"]
