"""TL1 as a pure codec: bytes in, events out; events out, bytes in. No I/O.

The rules it keeps (after Telcordia GR-831, as far as a cellular switch needs them):

- An input command is one line, ``VERB[-MOD[-MOD]]:[TID]:[AID]:CTAG[:[GENERAL]:[PAYLOAD]...];``.
  The client fills it from the switch row's format string; ``TL1Server`` parses it.
- The switch answers a command with a response, in one part or several::

      \\r\\n\\n   SID YY-MM-DD HH:MM:SS\\r\\nM  CTAG COMPLD\\r\\n   "data"\\r\\n;

  ``COMPLD`` done, ``DENY`` refused (the first unquoted body line is the four-letter error
  code, a ``/* ... */`` line the reason), ``PRTL`` partly done. A part that ends in ``>`` is
  followed by more parts with the same CTAG; the part that ends in ``;`` is the last.
- Before answering a slow command the switch may acknowledge it, ``IP CTAG\\r\\n<`` (in
  progress) or ``PF CTAG\\r\\n<`` (printout follows); ``OK``, ``NA``, ``NG`` and ``RL`` are
  acknowledgements that end the command with no response.
- Between any two messages the switch may send an autonomous message, with an alarm code
  (``*C`` ``**`` ``* `` or ``A ``) and a tag (ATAG) that counts up by one per message::

      \\r\\n\\n   SID YY-MM-DD HH:MM:SS\\r\\n*C 17 REPT ALM EQPT\\r\\n   "data"\\r\\n;

  ``TL1Client`` reports a skipped tag as an ``AtagGap`` event just before the message.
- Messages are printable ASCII lines ended by CR LF. Any other byte, a message that does not
  parse, or one longer than ``MAX_MESSAGE`` is a ``CodecError``; ``feed(b"")`` is the end of
  the data and raises ``CodecError`` if a message was cut off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from switch_adapters.codec import CodecError

MAX_MESSAGE = 4 * 1024 * 1024
MAX_COMMAND = 4096
ACK_CODES = ("IP", "PF", "OK", "NA", "NG", "RL")
IN_PROGRESS = ("IP", "PF")
STATUSES = ("COMPLD", "DENY", "PRTL", "DELAY", "RTRV")
ALARM_CODES = ("*C", "**", "* ", "A ")
NO_STAMP = "70-01-01 00:00:00"

_ALLOWED = bytes(range(0x20, 0x7F)) + b"\r\n"  # bytes.translate deletes these; any left is bad
_TERMINATOR = re.compile(rb"\n[;><]")
_LINE_BREAK = re.compile(r"\r?\n")
_ACK = re.compile(r"(IP|PF|OK|NA|NG|RL) ([A-Za-z0-9.]{1,16})")
_HEADER = re.compile(r"   ([!-~]+) (\d\d-\d\d-\d\d \d\d:\d\d:\d\d)")
_RESPONSE_ID = re.compile(r"M  ([A-Za-z0-9.]{1,16}) (COMPLD|DENY|PRTL|DELAY|RTRV)")
_AUTONOMOUS_ID = re.compile(r"(\*C|\*\*|\* |A ) (\d{1,9}) ([A-Z][!-~]*(?: [!-~]+)*)")
_VERB = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+){0,2}")
_CTAG = re.compile(r"[A-Za-z0-9.]{1,16}")
_BLOCK = re.compile(r"[ -9<-~]*")  # printable, without ':' and ';'
_LINE = r"[!-~](?:[ -~]*[!-~])?"  # a body line: printable, no blank at either end
_BODY = re.compile(_LINE)
# Whole bodies at once (a dump part has hundreds of lines): lines joined by "\n", and the body
# as it comes, each line indented by exactly three spaces. Anything else goes line by line.
_BODY_LINES = re.compile(rf"{_LINE}(?:\n{_LINE})*")
_INDENTED_BODY = re.compile(rf"   {_LINE}(?:\n   {_LINE})*")


@dataclass(frozen=True)
class Command:
    """An input command, as the client sends it and the switch reads it."""

    verb: str
    tid: str = ""
    aid: str = ""
    ctag: str = ""
    general: str = ""
    payload: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """Return the command's bytes."""
        blocks = [self.verb, self.tid, self.aid, self.ctag]
        if self.general or self.payload:
            blocks += [self.general, *self.payload]
        for block in blocks:
            if not _BLOCK.fullmatch(block):
                raise CodecError(f"cannot put {block!r} in a TL1 command")
        return (":".join(blocks) + ";").encode("ascii")

    def parameters(self) -> dict[str, str]:
        """Return the NAME=value parameters of the payload."""
        found: dict[str, str] = {}
        for block in self.payload:
            for item in block.split(","):
                name, sep, value = item.partition("=")
                if sep:
                    found[name.strip().upper()] = value.strip()
        return found


@dataclass(frozen=True)
class BadCommand:
    """Input the switch could not read as a command."""

    text: str
    reason: str
    ctag: str = "0"


@dataclass(frozen=True)
class Ack:
    """An acknowledgement of a command: in progress, or final without a response."""

    code: str
    ctag: str

    @property
    def in_progress(self) -> bool:
        """Tell whether a response is still to come."""
        return self.code in IN_PROGRESS

    def encode(self) -> bytes:
        """Return the acknowledgement's bytes."""
        if self.code not in ACK_CODES or not _CTAG.fullmatch(self.ctag):
            raise CodecError(f"bad acknowledgement {self.code} {self.ctag}")
        return f"{self.code} {self.ctag}\r\n<".encode("ascii")


@dataclass(frozen=True)
class Response:
    """One part of the switch's response to a command."""

    sid: str
    ctag: str
    status: str
    lines: tuple[str, ...] = ()
    final: bool = True
    stamp: str = NO_STAMP

    @property
    def data(self) -> list[str]:
        """Return the quoted body lines, unquoted."""
        return [unquote(line) for line in self.lines if line.startswith('"')]

    @property
    def error_code(self) -> str:
        """Return the error code of a denial (the first bare body line)."""
        for line in self.lines:
            if not line.startswith(('"', "/*")):
                return line.split()[0]
        return ""

    @property
    def comment(self) -> str:
        """Return the text of the body's comments."""
        found = [line[2:-2].strip() for line in self.lines if line.startswith("/*")]
        return " ".join(found)

    @property
    def text(self) -> str:
        """Return the status and the body, the text expected-response patterns match."""
        return "\n".join((self.status, *self.lines))

    def encode(self) -> bytes:
        """Return the part's bytes."""
        if self.status not in STATUSES or not _CTAG.fullmatch(self.ctag):
            raise CodecError(f"bad response {self.status} {self.ctag}")
        ident = f"M  {self.ctag} {self.status}"
        return _message(self.sid, self.stamp, ident, self.lines, self.final)


@dataclass(frozen=True)
class Autonomous:
    """A message the switch sent of its own accord (alarm, event)."""

    sid: str
    alarm: str
    atag: int
    verb: str
    lines: tuple[str, ...] = ()
    final: bool = True
    stamp: str = NO_STAMP

    @property
    def data(self) -> list[str]:
        """Return the quoted body lines, unquoted."""
        return [unquote(line) for line in self.lines if line.startswith('"')]

    def encode(self) -> bytes:
        """Return the message's bytes."""
        if self.alarm not in ALARM_CODES or not 0 <= self.atag < 10**9:
            raise CodecError(f"bad autonomous message {self.alarm!r} {self.atag}")
        if not re.fullmatch(r"[A-Z][!-~]*(?: [!-~]+)*", self.verb):
            raise CodecError(f"bad autonomous verb {self.verb!r}")
        ident = f"{self.alarm} {self.atag} {self.verb}"
        return _message(self.sid, self.stamp, ident, self.lines, self.final)


@dataclass(frozen=True)
class AtagGap:
    """Autonomous messages were lost: the tag jumped."""

    expected: int
    received: int


Event = Ack | Response | Autonomous | AtagGap


def quote(text: str) -> str:
    """Return text as a quoted TL1 body line."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ESCAPE = re.compile(r"\\(.)")


def unquote(line: str) -> str:
    """Return the text of a quoted TL1 body line."""
    inner = line[1:-1] if len(line) >= 2 and line.endswith('"') else line[1:]
    if "\\" not in inner:  # the common case, and a dump has a million of them
        return inner
    return _ESCAPE.sub(r"\1", inner)


def unquoted_text(lines: Sequence[str]) -> str | None:
    """Return body lines that are all plainly quoted, unquoted and joined by newlines.

    Plainly quoted: a quote at each end, no other quote and no escape inside. None when any
    line is not, so the caller goes line by line (``unquote``). Done in a few passes over the
    whole text rather than line by line, because a dump part holds hundreds of lines.
    """
    joined = "\n".join(lines)
    count = len(lines)
    if (
        count
        and joined[0] == '"'
        and joined[-1] == '"'
        and "\\" not in joined
        and joined.count('"') == 2 * count
        and joined.count('"\n"') == count - 1
    ):
        return joined[1:-1].replace('"\n"', "\n")
    return None


def _message(sid: str, stamp: str, ident: str, lines: tuple[str, ...], final: bool) -> bytes:
    if not _HEADER.fullmatch(f"   {sid} {stamp}"):
        raise CodecError(f"bad message header {sid!r} {stamp!r}")
    joined = "\n".join(lines)
    # A line holding a newline would pass the joined check as two lines: count them too.
    if lines and (joined.count("\n") != len(lines) - 1 or not _BODY_LINES.fullmatch(joined)):
        for line in lines:
            if not _BODY.fullmatch(line):
                raise CodecError(f"cannot put {line!r} in a TL1 message")
    body = ("   " + "\r\n   ".join(lines) + "\r\n") if lines else ""
    end = ";" if final else ">"
    return f"\r\n\n   {sid} {stamp}\r\n{ident}\r\n{body}{end}".encode("ascii")


class _Framer:
    """Cut a byte stream into messages at a terminator, checking every byte."""

    def __init__(self, terminator: re.Pattern[bytes], limit: int) -> None:
        self._buffer = bytearray()
        self._scanned = 0
        self._terminator = terminator
        self._limit = limit

    def messages(self, data: bytes) -> list[tuple[str, str]]:
        """Return (text, terminator) for each message completed by data."""
        bad = data.translate(None, _ALLOWED)  # what is left is not TL1 (faster than a pattern)
        if bad:
            raise CodecError(f"byte {bad[0]:#04x} is not TL1")
        self._buffer += data
        found = []
        start = 0
        while True:
            hit = self._terminator.search(self._buffer, max(start, self._scanned - 1))
            if hit is None:
                break
            end = hit.end()
            text = self._buffer[start : end - 1].decode("ascii")
            found.append((text, chr(self._buffer[end - 1])))
            start = end
        if start:
            del self._buffer[:start]
        self._scanned = len(self._buffer)
        if len(self._buffer) > self._limit:
            raise CodecError(f"no end of message after {self._limit} bytes")
        return found

    def pending(self) -> bool:
        """Tell whether part of a message is waiting for its end."""
        return bool(self._buffer.strip())


class TL1Client:
    """The client's side of a TL1 line: reads the switch's messages."""

    def __init__(self) -> None:
        self._framer = _Framer(_TERMINATOR, MAX_MESSAGE)
        self.last_atag: int | None = None
        self._continuing_atag: int | None = None

    def feed(self, data: bytes) -> list[Event]:
        """Take bytes from the switch; return the events they complete. b"" is end of data."""
        if not data:
            if self._framer.pending():
                raise CodecError("the line ended in the middle of a message")
            return []
        events: list[Event] = []
        for text, end in self._framer.messages(data):
            message = parse_message(text, end)
            if isinstance(message, Autonomous):
                events.extend(self._check_atag(message))
            events.append(message)
        return events

    def _check_atag(self, message: Autonomous) -> list[AtagGap]:
        continuing = self._continuing_atag == message.atag
        self._continuing_atag = None if message.final else message.atag
        if continuing:
            return []
        last, self.last_atag = self.last_atag, message.atag
        if last is not None and message.atag != last + 1:
            return [AtagGap(last + 1, message.atag)]
        return []


def parse_message(text: str, end: str) -> Ack | Response | Autonomous:
    """Parse one message from the switch (its text before the terminator, and the terminator)."""
    lines = _LINE_BREAK.split(text.strip("\r\n"), 2)
    if end == "<":
        ack = _ACK.fullmatch(lines[0]) if len(lines) == 1 else None
        if ack is None:
            raise CodecError(f"bad acknowledgement {text!r:.80}")
        return Ack(ack[1], ack[2])
    if len(lines) < 2:
        raise CodecError(f"message too short {text!r:.80}")
    header = _HEADER.fullmatch(lines[0])
    if header is None:
        raise CodecError(f"bad message header {lines[0]!r:.80}")
    body = _body(lines[2]) if len(lines) > 2 else []
    sid, stamp, final = header[1], header[2], end == ";"
    ident = _RESPONSE_ID.fullmatch(lines[1])
    if ident:
        return Response(sid, ident[1], ident[2], tuple(body), final, stamp)
    ident = _AUTONOMOUS_ID.fullmatch(lines[1])
    if ident:
        return Autonomous(sid, ident[1], int(ident[2]), ident[3], tuple(body), final, stamp)
    raise CodecError(f"bad message identification {lines[1]!r:.80}")


def _body(text: str) -> list[str]:
    """Return the body lines of a message (the text after its identification line)."""
    text = text.replace("\r\n", "\n")
    if _INDENTED_BODY.fullmatch(text):
        return text[3:].split("\n   ")  # "\n   " is only ever where a line begins
    body = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not line.startswith("   ") or not _BODY.fullmatch(stripped):
            raise CodecError(f"bad body line {line!r:.80}")
        body.append(stripped)
    return body


class TL1Server:
    """The switch's side of a TL1 line: reads commands."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Command | BadCommand]:
        """Take bytes from the client; return the commands (or unreadable input) they complete."""
        self._buffer += data
        found: list[Command | BadCommand] = []
        while True:
            end = self._buffer.find(b";")
            if end < 0:
                break
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            found.append(parse_command(raw))
        if len(self._buffer) > MAX_COMMAND:
            text = self._buffer[:80].decode("ascii", "replace")
            self._buffer.clear()
            found.append(BadCommand(text, "command too long"))
        return found


def parse_command(raw: bytes) -> Command | BadCommand:
    """Parse one command (without its ';')."""
    text = raw.decode("ascii", "replace").lstrip(" \r\n")
    if raw.translate(None, _ALLOWED) or "\n" in text or "\r" in text:
        return BadCommand(text[:80], "not a TL1 command")
    blocks = text.split(":")
    if len(blocks) < 4 or not _VERB.fullmatch(blocks[0]):
        return BadCommand(text[:80], "not a TL1 command")
    ctag = blocks[3]
    if not _CTAG.fullmatch(ctag):
        return BadCommand(text[:80], "missing or bad correlation tag")
    general = blocks[4] if len(blocks) > 4 else ""
    return Command(blocks[0].upper(), blocks[1], blocks[2], ctag, general, tuple(blocks[5:]))


__all__ = [
    "Ack",
    "AtagGap",
    "Autonomous",
    "BadCommand",
    "Command",
    "Event",
    "Response",
    "TL1Client",
    "TL1Server",
    "parse_command",
    "parse_message",
    "quote",
    "unquote",
    "unquoted_text",
]
