"""The BER dialect: a session that speaks ber_codec over a switch's lines.

The requests are ASN.1 values (data/asn1/cas-switch.asn), so a command's format string gives
the request's fields rather than its text: ``key=value`` words, filled with ``mid``, ``esn`` and
``features`` (insert: ``mid``, ``esn``, ``features``; modify: ``mid`` and the optional ``esn``
and ``features``, a value not changed being left out; suspend, restore, delete and query:
``mid``; dump: an optional ``after``). A row can so rewrite a value, e.g.
``features=PLAN{features}``.

Expected-response patterns: for the changes the pattern must match the text of the switch's
Response; for query and dump it is matched against each subscriber record written as
``mid=... esn=... features=... state=...`` (state ``active`` or ``suspended``, the names of
the module's SubscriberState), and its named groups ``mid``, ``esn``, ``features`` and
``state`` give the subscriber. An Error raises ``SwitchDenied`` with the switch's code and
reason (alreadySuspended, notSuspended for a state change that changes nothing); a query
refused with unknownSubscriber returns None. Answers carry the request's invoke id; an answer
to another id (late, from an earlier request) is skipped.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterator

from switch_adapters import ber_codec as ber
from switch_adapters.codec import CodecError
from switch_adapters.line import Line, discard_waiting
from switch_adapters.port import (
    DEFAULT_DEADLINE,
    CommandTemplate,
    Garbled,
    Record,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
)
from switch_adapters.session import LineSession

log = logging.getLogger(__name__)

# What the dialect's own record pattern lets features be (the codec checks the rest).
_FEATURES = re.compile(r"[A-Za-z0-9&+._-]*")
SUBSCRIBER_RECORD = (
    r"^mid=(?P<mid>\d{10}) esn=(?P<esn>\d{11}) features=(?P<features>[A-Za-z0-9&+._-]*)"
    r" state=(?P<state>active|suspended)$"
)
DEFAULT_COMMANDS: dict[str, CommandTemplate] = {
    "insert": CommandTemplate("mid={mid} esn={esn} features={features}", r"^SUBSCRIBER INSERTED$"),
    "modify": CommandTemplate("mid={mid} esn={esn} features={features}", r"^SUBSCRIBER MODIFIED$"),
    "suspend": CommandTemplate("mid={mid}", r"^SUBSCRIBER SUSPENDED$"),
    "restore": CommandTemplate("mid={mid}", r"^SUBSCRIBER RESTORED$"),
    "delete": CommandTemplate("mid={mid}", r"^SUBSCRIBER DELETED$"),
    "query": CommandTemplate("mid={mid}", SUBSCRIBER_RECORD),
    "dump": CommandTemplate("", SUBSCRIBER_RECORD),
}
# The record before lines had a state: switch rows copied it for query and dump.
FORMER_SUBSCRIBER_RECORD = (
    r"^mid=(?P<mid>\d{10}) esn=(?P<esn>\d{11}) features=(?P<features>[A-Za-z0-9&+._-]*)$"
)
FORMER_COMMANDS = {
    "query": (CommandTemplate("mid={mid}", FORMER_SUBSCRIBER_RECORD),),
    "dump": (CommandTemplate("", FORMER_SUBSCRIBER_RECORD),),
}
# The fields each command's format may give, and those it must.
FIELDS = {
    "insert": {"mid", "esn", "features"},
    "modify": {"mid", "esn", "features"},
    "suspend": {"mid"},
    "restore": {"mid"},
    "delete": {"mid"},
    "query": {"mid"},
    "dump": {"after"},
}
REQUIRED = {
    "insert": {"mid", "esn"},
    "modify": {"mid"},
    "suspend": {"mid"},
    "restore": {"mid"},
    "delete": {"mid"},
    "query": {"mid"},
    "dump": set(),
}
NOT_FOUND = frozenset({str(ber.ERROR_CODES["unknownSubscriber"])})
INVOKE_IDS = 2**31
# Builds a request for an invoke id.
RequestMaker = Callable[[int], ber.Request]


class BERSession(LineSession):
    """A logged-on BER session to one switch."""

    DIALECT = "ber"
    DEFAULT_COMMANDS = DEFAULT_COMMANDS
    FORMER_COMMANDS = FORMER_COMMANDS

    def __init__(
        self,
        defn: SwitchDefinition,
        deadline: float = DEFAULT_DEADLINE,
        *,
        keepalive_interval: float | None = None,
    ) -> None:
        self._codec = ber.FrameDecoder()
        self._messages: deque[ber.Message] = deque()
        # A random start, as TCP picks its sequence numbers: an answer a serial line still
        # holds from an earlier session is then not taken for the answer to this one's request.
        self._invoke_ids = itertools.count(random.randrange(INVOKE_IDS))
        super().__init__(defn, deadline, keepalive_interval=keepalive_interval)

    # -- the dialect's exchanges ---------------------------------------------------------------

    def _greet(self, line: Line, until: float) -> None:
        self._codec = ber.FrameDecoder()
        self._messages.clear()
        discard_waiting(line, until)
        name, secret = self.defn.logon_name, self.defn.logon_secret
        if name:
            self._call(line, lambda i: ber.LogOn(i, name, secret.encode()), until)
        else:
            self._call(line, ber.KeepAlive, until)

    def _keepalive(self, line: Line, until: float) -> None:
        self._call(line, ber.KeepAlive, until)

    def _log_off(self, line: Line, until: float) -> None:
        self._call(line, ber.LogOff, until)

    def _insert(self, line: Line, subscriber: Subscriber, until: float) -> None:
        fields = self._fields(
            "insert", mid=subscriber.mid, esn=subscriber.esn, features=subscriber.features
        )
        held = Subscriber(fields["mid"], fields["esn"], fields.get("features", ""))
        self._expect_text("insert", self._call(line, lambda i: ber.Insert(i, held), until))

    def _modify(
        self, line: Line, mid: str, esn: str | None, features: str | None, until: float
    ) -> None:
        fields = self._fields("modify", mid=mid, esn=esn, features=features)
        target, new_esn, new_features = fields["mid"], fields.get("esn"), fields.get("features")
        response = self._call(line, lambda i: ber.Modify(i, target, new_esn, new_features), until)
        self._expect_text("modify", response)

    def _suspend(self, line: Line, mid: str, until: float) -> None:
        target = self._fields("suspend", mid=mid)["mid"]
        self._expect_text("suspend", self._call(line, lambda i: ber.Suspend(i, target), until))

    def _restore(self, line: Line, mid: str, until: float) -> None:
        target = self._fields("restore", mid=mid)["mid"]
        self._expect_text("restore", self._call(line, lambda i: ber.Restore(i, target), until))

    def _delete(self, line: Line, mid: str, until: float) -> None:
        target = self._fields("delete", mid=mid)["mid"]
        self._expect_text("delete", self._call(line, lambda i: ber.Delete(i, target), until))

    def _query(self, line: Line, mid: str, until: float) -> Subscriber | None:
        target = self._fields("query", mid=mid)["mid"]
        try:
            response = self._call(line, lambda i: ber.Query(i, target), until)
        except SwitchDenied as denied:
            if denied.code in NOT_FOUND:
                return None
            raise
        if response.subscriber is None:
            return None
        held = Subscriber(
            *self.record_from(self._match(self.expect("query"), response.subscriber, "query"))
        )
        if held.mid != mid:
            raise Garbled(self.switch, f"query for {mid} answered with {held.mid}")
        return held

    def _dump_records(self, line: Line, part_seconds: float) -> Iterator[list[Record]]:
        pattern = self.expect("dump")
        # With the dialect's own pattern the codec's records need no second look but at their
        # features, whose alphabet the pattern narrows; a row's own pattern sees each record.
        whole = self.template("dump").expect == SUBSCRIBER_RECORD
        after = self._fields("dump").get("after") or None
        invoke_id = self._send(line, lambda i: ber.Dump(i, after))
        count = 0
        # Answers decoded before the dump was asked (late ones) come first, then the dump's.
        waiting: list[list[Record] | ber.Message] = list(self._messages)
        self._messages.clear()
        while True:
            for item in waiting:
                if isinstance(item, list):
                    count += len(item)
                    if whole and _FEATURES.fullmatch("".join([r[2] for r in item])):
                        yield item
                    else:
                        yield from self._one_by_one(pattern, item)
                    continue
                if item.invoke_id != invoke_id or isinstance(item, ber.REQUESTS):
                    self._skip(item)
                elif isinstance(item, ber.DumpRecord):
                    count += 1
                    yield [self.record_from(self._match(pattern, item.subscriber, "dump"))]
                elif isinstance(item, ber.Refused):
                    raise self._denial(item)
                elif isinstance(item, ber.EndOfDump):
                    if item.count != count:
                        raise Garbled(
                            self.switch, f"dump ended at {count}, switch counts {item.count}"
                        )
                    return
                else:
                    raise Garbled(self.switch, f"dump answered with {type(item).__name__}")
            data = line.read(time.monotonic() + part_seconds)
            try:
                waiting = self._codec.feed_dump(data, invoke_id)
            except CodecError as exc:
                raise Garbled(self.switch, str(exc)) from exc

    def _one_by_one(
        self, pattern: re.Pattern[str], records: list[Record]
    ) -> Iterator[list[Record]]:
        """Match records one at a time; when one fails, what came before it is still given."""
        matched: list[Record] = []
        for record in records:
            try:
                matched.append(self.record_from(self._match(pattern, Subscriber(*record), "dump")))
            except Garbled:
                if matched:
                    yield matched
                raise
        yield matched

    # -- one request, its answer ---------------------------------------------------------------

    def _call(self, line: Line, request: RequestMaker, until: float) -> ber.Response:
        """Send a request and return its Response; an Error raises SwitchDenied."""
        answer = self._answer(line, self._send(line, request), until)
        if isinstance(answer, ber.Refused):
            raise self._denial(answer)
        if not isinstance(answer, ber.Response):
            raise Garbled(self.switch, f"a {type(answer).__name__} answered a single request")
        return answer

    def _send(self, line: Line, request: RequestMaker) -> int:
        invoke_id = next(self._invoke_ids) % INVOKE_IDS
        try:
            data = ber.encode(request(invoke_id))
        except CodecError as exc:
            raise ValueError(f"{self.switch}: {exc}") from exc
        line.write(data)
        return invoke_id

    def _answer(self, line: Line, invoke_id: int, until: float) -> ber.Answer:
        while True:
            while not self._messages:
                data = line.read(until)
                try:
                    self._messages.extend(self._codec.feed(data))
                except CodecError as exc:
                    raise Garbled(self.switch, str(exc)) from exc
            message = self._messages.popleft()
            if message.invoke_id == invoke_id and not isinstance(message, ber.REQUESTS):
                return message
            self._skip(message)

    def _skip(self, message: ber.Message) -> None:
        """Pass over a late answer to another request; a request from the switch is garbage."""
        if isinstance(message, ber.REQUESTS):
            raise Garbled(self.switch, f"the switch sent a request: {message!r:.80}")
        log.debug("%s: skipping a late answer to %d", self.switch, message.invoke_id)

    def _expect_text(self, command: str, response: ber.Response) -> None:
        if not self.expect(command).search(response.text):
            raise SwitchDenied(self.switch, response.text, f"{command} answer not as expected")

    def _fields(self, command: str, **values: str | None) -> dict[str, str]:
        """Fill a command's format string and read back its key=value words."""
        fields: dict[str, str] = {}
        for word in self.command_text(command, **values).split():
            key, sep, value = word.partition("=")
            if not sep or key not in FIELDS[command]:
                raise ValueError(f"{self.switch}: {command} format has no field {word!r}")
            fields[key] = value
        missing = REQUIRED[command] - fields.keys()
        if missing:
            raise ValueError(f"{self.switch}: {command} format lacks {', '.join(sorted(missing))}")
        return fields

    def _match(self, pattern: re.Pattern[str], record: Subscriber, command: str) -> re.Match[str]:
        """Match a subscriber record, written as the patterns read it, to a pattern."""
        text = f"mid={record.mid} esn={record.esn} features={record.features} state={record.state}"
        match = pattern.search(text)
        if match is None:
            raise Garbled(self.switch, f"{command} record not as expected: {text!r:.80}")
        return match

    def _denial(self, refused: ber.Refused) -> SwitchDenied:
        return SwitchDenied(self.switch, str(refused.code), refused.reason or "no reason given")


__all__ = ["DEFAULT_COMMANDS", "SUBSCRIBER_RECORD", "BERSession"]
