"""The MML dialect: a session that speaks mml_codec over a switch's lines.

Commands come from the switch row's format strings (``DEFAULT_COMMANDS`` when it gives none),
filled with ``mid``, ``esn`` and ``features``; a row may also give ``keepalive`` and ``logoff``.
Log-on is the switch's own dialogue: an empty line, then the log-on name at ``USERCODE:`` and
the secret at ``PASSWORD:``.

The subscriber's life in Ericsson-style commands (``HG`` the HLR subscriber function, then the
object, then I initiate, E end, C change, P print): ``HGSDC`` defines a subscriber, ``HGSUC``
changes its ``SUBID`` (handset) and/or ``PROFILE`` (a parameter not changed is left out),
``HGSBI`` and ``HGSBE`` initiate and end the barring of its line (suspend, restore), ``HGSDE``
deletes it and ``HGSDP`` prints one ``MSISDN`` or ``ALL``, with the columns ``MSISDN``,
``SUBID``, ``PROFILE`` and ``STATE`` (``ACTIVE`` or ``BARRED``).

Expected-response patterns: for the changes, keep-alive and log-off the pattern must match the
answer's first line (``EXECUTED``, or a printout's title); for query and dump it is matched
against each printout row written as ``COLUMN=value`` pairs joined by commas, and its named
groups ``mid``, ``esn``, ``features`` and ``state`` give the subscriber. ``NOT ACCEPTED``
raises ``SwitchDenied`` with the fault code and reason (15: already barred, 16: not barred); a
query refused with fault code 14 (subscriber not defined) returns None.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Iterator, Mapping

from switch_adapters.codec import CodecError
from switch_adapters.line import Line, discard_waiting
from switch_adapters.mml_codec import (
    EXECUTED,
    SUBSCRIBER_NOT_DEFINED,
    Columns,
    Echo,
    End,
    Event,
    Executed,
    LogonPrompt,
    NotAccepted,
    Page,
    Ready,
    Row,
    Rows,
    SwitchOutput,
    encode_command,
    encode_line,
    wake,
)
from switch_adapters.port import (
    ACTIVE,
    DEFAULT_DEADLINE,
    SUSPENDED,
    CommandTemplate,
    Garbled,
    LineDown,
    Record,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
)
from switch_adapters.session import LineSession

log = logging.getLogger(__name__)

SUBSCRIBER_ROW = (
    r"^MSISDN=(?P<mid>\d{10}),SUBID=(?P<esn>[0-9A-Fa-f]+),PROFILE=(?P<features>[A-Za-z0-9&+._-]*)"
    r",STATE=(?P<state>ACTIVE|BARRED)$"
)
DEFAULT_COMMANDS: dict[str, CommandTemplate] = {
    "insert": CommandTemplate(
        "HGSDC:MSISDN={mid},SUBID={esn},PROFILE={features};", f"^{EXECUTED}$"
    ),
    "modify": CommandTemplate(
        "HGSUC:MSISDN={mid},SUBID={esn},PROFILE={features};", f"^{EXECUTED}$"
    ),
    "suspend": CommandTemplate("HGSBI:MSISDN={mid};", f"^{EXECUTED}$"),
    "restore": CommandTemplate("HGSBE:MSISDN={mid};", f"^{EXECUTED}$"),
    "delete": CommandTemplate("HGSDE:MSISDN={mid};", f"^{EXECUTED}$"),
    "query": CommandTemplate("HGSDP:MSISDN={mid};", SUBSCRIBER_ROW),
    "dump": CommandTemplate("HGSDP:ALL;", SUBSCRIBER_ROW),
    "keepalive": CommandTemplate("CACLP;", r"^TIME$"),
    "logoff": CommandTemplate("EXIT;", f"^{EXECUTED}$"),
}
# The printout row before lines had a state: switch rows copied it for query and dump.
FORMER_SUBSCRIBER_ROW = (
    r"^MSISDN=(?P<mid>\d{10}),SUBID=(?P<esn>[0-9A-Fa-f]+),PROFILE=(?P<features>[A-Za-z0-9&+._-]*)$"
)
FORMER_COMMANDS = {
    "query": (CommandTemplate("HGSDP:MSISDN={mid};", FORMER_SUBSCRIBER_ROW),),
    "dump": (CommandTemplate("HGSDP:ALL;", FORMER_SUBSCRIBER_ROW),),
}
STATES = {"ACTIVE": ACTIVE, "BARRED": SUSPENDED}
# The printout's columns, and its rows as the switch writes them: with the dialect's own
# pattern a whole block of rows is matched in one pass (an empty PROFILE is written "-").
# Fields and blanks are bounded (a row that is longer is matched on its own) and taken
# possessively: this one pass is most of what reading a dump costs.
COLUMNS = ("MSISDN", "SUBID", "PROFILE", "STATE")
_WHOLE_ROWS = re.compile(
    r"^(\d{10}) {1,64}+([0-9A-Fa-f]{1,64}+) {1,64}+(?:-|([A-Za-z0-9&+._-]{1,64}+)) {1,64}+"
    r"(ACTIVE|BARRED)$",
    re.MULTILINE,
)
NOT_FOUND = frozenset({SUBSCRIBER_NOT_DEFINED})
TERMINAL = (Executed, NotAccepted, End)


class MMLSession(LineSession):
    """A logged-on MML session to one switch."""

    DIALECT = "mml"
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
        self._codec = SwitchOutput()
        self._events: deque[Event] = deque()
        super().__init__(defn, deadline, keepalive_interval=keepalive_interval)

    # -- the dialect's exchanges ---------------------------------------------------------------

    def _greet(self, line: Line, until: float) -> None:
        self._codec = SwitchOutput(hunting=True, rows_at_once=True)
        self._events.clear()
        discard_waiting(line, until)
        line.write(wake())
        stale = False
        while True:
            event = self._next_event(line, until)
            if isinstance(event, LogonPrompt):
                if not self.defn.logon_name:
                    raise SwitchDenied(self.switch, event.field, "the switch asks for a log-on")
                answer = self.defn.logon_name if event.field == "USERCODE" else None
                line.write(encode_line(self.defn.logon_secret if answer is None else answer))
            elif isinstance(event, Echo):
                stale = True  # the answer to a command of an earlier session
            elif isinstance(event, NotAccepted) and not stale:
                raise SwitchDenied(self.switch, str(event.code), event.reason or "log-on refused")
            elif isinstance(event, Ready):
                if not stale:
                    return
                stale = False

    def _keepalive(self, line: Line, until: float) -> None:
        self._simple(line, "keepalive", until)

    def _log_off(self, line: Line, until: float) -> None:
        # A switch logged off prompts no more, so only the answer is awaited.
        self._simple(line, "logoff", until, prompt=False)

    def _insert(self, line: Line, subscriber: Subscriber, until: float) -> None:
        values = {"mid": subscriber.mid, "esn": subscriber.esn, "features": subscriber.features}
        self._simple(line, "insert", until, values)

    def _modify(
        self, line: Line, mid: str, esn: str | None, features: str | None, until: float
    ) -> None:
        self._simple(line, "modify", until, {"mid": mid, "esn": esn, "features": features})

    def _suspend(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "suspend", until, {"mid": mid})

    def _restore(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "restore", until, {"mid": mid})

    def _delete(self, line: Line, mid: str, until: float) -> None:
        self._simple(line, "delete", until, {"mid": mid})

    def _query(self, line: Line, mid: str, until: float) -> Subscriber | None:
        pattern = self.expect("query")
        columns: tuple[str, ...] = ()
        found: Subscriber | None = None
        refused: NotAccepted | None = None
        for event in self._exchange(line, "query", until, {"mid": mid}):
            if isinstance(event, NotAccepted):
                refused = event
            elif isinstance(event, Columns):
                columns = event.names
            elif isinstance(event, Row | Rows):
                table = self._table(event) if isinstance(event, Rows) else [event.values]
                for values in table:
                    held = Subscriber(*self._record(pattern, columns, values, "query"))
                    if held.mid == mid:
                        found = held
        if refused is not None:
            if refused.code in NOT_FOUND:
                return None
            raise self._denial(refused)
        return found

    def _dump_records(self, line: Line, part_seconds: float) -> Iterator[list[Record]]:
        pattern = self.expect("dump")
        whole = self.template("dump").expect == SUBSCRIBER_ROW
        columns: tuple[str, ...] = ()
        until = time.monotonic() + part_seconds
        for event in self._exchange(line, "dump", until, part_seconds=part_seconds):
            if isinstance(event, NotAccepted):
                raise self._denial(event)
            if isinstance(event, Columns):
                columns = event.names
            elif isinstance(event, Rows):
                if whole and columns == COLUMNS:
                    found = _WHOLE_ROWS.findall(event.text)
                    if len(found) == event.count:  # every row matched, each on its own
                        yield self.with_states(found)
                        continue
                yield from self._row_by_row(pattern, columns, self._table(event))
            elif isinstance(event, Row):
                yield [self._record(pattern, columns, event.values, "dump")]

    def _table(self, rows: Rows) -> list[tuple[str, ...]]:
        """Read a block of rows one by one; a line that is no row is garbled."""
        try:
            return rows.values()
        except CodecError as exc:
            raise Garbled(self.switch, str(exc)) from exc

    def _row_by_row(
        self, pattern: re.Pattern[str], columns: tuple[str, ...], table: list[tuple[str, ...]]
    ) -> Iterator[list[Record]]:
        """Match rows one at a time; when one fails, what came before it is still given."""
        records: list[Record] = []
        for values in table:
            try:
                records.append(self._record(pattern, columns, values, "dump"))
            except Garbled:
                if records:
                    yield records
                raise
        yield records

    # -- one command, its answer ---------------------------------------------------------------

    def _simple(
        self,
        line: Line,
        command: str,
        until: float,
        values: Mapping[str, str | None] | None = None,
        *,
        prompt: bool = True,
    ) -> None:
        """Send a command and check its answer against the expected pattern."""
        text = ""
        refused: NotAccepted | None = None
        for event in self._exchange(line, command, until, values, prompt=prompt):
            if isinstance(event, NotAccepted):
                refused = event
            elif isinstance(event, Executed):
                text = EXECUTED
            elif isinstance(event, Page) and not text:
                text = event.title
        if refused is not None:
            raise self._denial(refused)
        if not self.expect(command).search(text):
            raise SwitchDenied(self.switch, text, f"{command} answer not as expected")

    def _exchange(
        self,
        line: Line,
        command: str,
        until: float,
        values: Mapping[str, str | None] | None = None,
        *,
        part_seconds: float | None = None,
        prompt: bool = True,
    ) -> Iterator[Event]:
        """Send a command; yield its answer's events, each page within part_seconds if given."""
        text = self.command_text(command, **(values or {})).strip()
        try:
            data = encode_command(text)
        except CodecError as exc:
            raise ValueError(f"{self.switch}: {command} format gives no MML command") from exc
        line.write(data)
        while True:
            event = self._next_event(line, until)
            if isinstance(event, Echo) and event.command == text:
                break
            if isinstance(event, LogonPrompt):
                # The switch forgot the log-on (it restarted, or hung up the session).
                raise LineDown(self.switch, "the switch asks for a log-on again")
            log.debug("%s: skipping %s left from an earlier command", self.switch, event)
        while True:
            event = self._next_event(line, until)
            if part_seconds is not None and isinstance(event, Page):
                until = time.monotonic() + part_seconds
            yield event
            if isinstance(event, TERMINAL):
                break
        if prompt and not isinstance(self._next_event(line, until), Ready):
            raise Garbled(self.switch, f"no prompt after the answer to {command}")

    def _next_event(self, line: Line, until: float) -> Event:
        while not self._events:
            data = line.read(until)
            try:
                self._events.extend(self._codec.feed(data))
            except CodecError as exc:
                raise Garbled(self.switch, str(exc)) from exc
        return self._events.popleft()

    def _record(
        self,
        pattern: re.Pattern[str],
        columns: tuple[str, ...],
        values: tuple[str, ...],
        command: str,
    ) -> Record:
        """Match one row, written as COLUMN=value pairs joined by commas, to a record."""
        text = ",".join(f"{name}={value}" for name, value in zip(columns, values, strict=True))
        match = pattern.search(text)
        if match is None:
            raise Garbled(self.switch, f"{command} row not as expected: {text!r:.80}")
        return self.record_from(match)

    def _denial(self, refused: NotAccepted) -> SwitchDenied:
        return SwitchDenied(self.switch, str(refused.code), refused.reason or "no reason given")


__all__ = ["DEFAULT_COMMANDS", "SUBSCRIBER_ROW", "MMLSession"]
