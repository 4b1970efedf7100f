"""The MML switch dialect (Ericsson-style man-machine language) as a pure codec.

Rules of the line, in 7-bit ASCII, lines ended by CR LF (a bare LF is taken too):
- Log-on: CAS wakes the line with an empty line; the switch prompts `USERCODE:`, then
  `PASSWORD:`, and answers with the command prompt `<` or with a fault printout.
- A command is `VERB:NAME=VALUE,NAME=VALUE;` (or `VERB;`) on one line. The switch echoes it
  after the prompt, then answers `EXECUTED`, or `NOT ACCEPTED` / `FAULT CODE n` / a reason
  line, or a printout, and prompts `<` again.
- A printout comes in pages. Each page opens with a title line ending `PAGE n`, then a line of
  column names, then rows of as many fields (an empty field is written `-`); `END` closes the
  last page.
Prompts carry no line end: the decoder recognises them at the start of a line. Bytes it cannot
place are refused with MMLError, after which the decoder refuses everything.

A printout of a million rows is read and written a block of rows at a time: ``rows`` writes
many rows in one pass, and a decoder made with ``rows_at_once`` gives each run of complete
rows it has as one ``Rows`` event instead of a ``Row`` each, leaving the lines as they came
for whoever reads them to match all at once (``Rows.values`` reads them one by one). Both
read the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import chain

from switch_adapters.codec import CodecError

MAX_LINE = 512
EMPTY_FIELD = "-"
LOGON_FIELDS = ("USERCODE", "PASSWORD")
_LOGON_TOKENS = tuple(f"{field}:".encode("ascii") for field in LOGON_FIELDS)
EXECUTED = "EXECUTED"
NOT_ACCEPTED = "NOT ACCEPTED"
END = "END"

# Fault codes of the dialect, as the simulator gives them and the session reads them.
AUTHORIZATION_FAILURE = 1
UNREASONABLE_VALUE = 3
FUNCTION_BUSY = 4
UNKNOWN_COMMAND = 10
SUBSCRIBER_DEFINED = 12
SUBID_IN_USE = 13
SUBSCRIBER_NOT_DEFINED = 14
SUBSCRIBER_BARRED = 15
SUBSCRIBER_NOT_BARRED = 16

_TITLE = re.compile(r"(?P<title>[A-Z][A-Z0-9 ]*?) +PAGE +(?P<page>\d{1,6})")
_FAULT = re.compile(r"FAULT CODE +(?P<code>\d{1,5})")
_COMMAND = re.compile(r"(?P<verb>[A-Z][A-Z0-9]{1,7})(?::(?P<params>[^;]*))?;")
_PARAM = re.compile(r"(?P<name>[A-Z][A-Z0-9]*)(?:=(?P<value>[A-Za-z0-9&+._\-]*))?")
_PRINTABLE = re.compile(r"[\x20-\x7e\t]*")
_WORD = re.compile(r"[\x21-\x7e]*")
# Rows are read and written a block at a time. Reading, the block holds printable bytes only
# (bytes.translate deletes these; any left is not a plain row), ends at the first empty line
# (the next page's title or the printout's end follow it), and holds no line that reads as
# the printout's end or a page title; Rows.values tells whether each line is a row.
_ROW_BYTES = bytes(range(0x20, 0x7F)) + b"\r\n"
_BLANK_LINE = re.compile(rb"\n\r?\n")
_TITLE_LINE = re.compile(r"^[A-Z][A-Z0-9 ]*? +PAGE +\d{1,6}\r?$", re.MULTILINE)
_ROW_BLOCKS: dict[int, re.Pattern[str]] = {}


def _row_block(width: int) -> re.Pattern[str]:
    """Lines of `width` one-word fields between blanks, ended by CR LF, none over MAX_LINE.

    Fields and the blanks between them are bounded so that any line matched is short enough;
    rows with a longer field are written one by one.
    """
    pattern = _ROW_BLOCKS.get(width)
    if pattern is None:
        most = max(1, MAX_LINE // (2 * width))
        field = f"[!-~]{{1,{most}}}+"
        line = f"{field}(?: {{1,{most}}}+{field}){{{width - 1}}}+\r\n"
        pattern = _ROW_BLOCKS[width] = re.compile(f"(?:{line})++")
    return pattern


def _reads_as_rows(text: str, width: int, words: str) -> bool:
    """Tell whether CR LF ended lines read back as exactly these rows of `width` values.

    `words` is every value joined: when they are all words without "-", "END" or "PAGE" in
    them, no line can read as an empty value, the printout's end or a page title.
    """
    if not (words.isascii() and words.isprintable() and " " not in words):
        return False  # a value with a blank or a control character
    if _row_block(width).fullmatch(text) is None:
        return False  # an empty value, or a line too long
    if "-" not in words and "END" not in words and "PAGE" not in words:
        return True
    probe = "\n" + text
    return not (
        "\nEND\r\n" in probe
        or _TITLE_LINE.search(text)
        # A lone "-" reads back as an empty value.
        or "\n- " in probe
        or " - " in text
        or " -\r\n" in text
        or "\n-\r\n" in probe
    )


class MMLError(CodecError):
    """Bytes or text that are not part of the MML dialogue."""


# Events the switch's side of the line produces, as the client decodes them.


@dataclass(frozen=True)
class LogonPrompt:
    """The switch asks for `USERCODE` or `PASSWORD`."""

    field: str


@dataclass(frozen=True)
class Ready:
    """The command prompt `<`: the switch takes the next command."""


@dataclass(frozen=True)
class Echo:
    """The switch repeats the command it received."""

    command: str


@dataclass(frozen=True)
class Executed:
    """The command was carried out."""


@dataclass(frozen=True)
class NotAccepted:
    """The command was refused, with the switch's fault code and reason."""

    code: int
    reason: str


@dataclass(frozen=True)
class Page:
    """A printout page begins."""

    title: str
    number: int


@dataclass(frozen=True)
class Columns:
    """Names of the printout's columns."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One printout row, as many values as columns."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Rows:
    """Printout lines read at once (``rows_at_once``): as sent, joined by newlines.

    ``count`` is how many lines; each is a row of ``width`` one-word fields (an empty field
    still written `-`), which ``values`` checks as it reads them.
    """

    text: str
    count: int
    width: int

    def values(self) -> list[tuple[str, ...]]:
        """Return each row's values as Row would give them; refuse a line that is no row."""
        table = []
        for line in self.text.split("\n"):
            fields = line.split()
            if not fields:
                continue  # a line of blanks, skipped as an empty line is
            if len(fields) != self.width or len(line) > MAX_LINE:
                raise MMLError(f"unexpected line in a printout: {line!r:.80}")
            table.append(tuple("" if v == EMPTY_FIELD else v for v in fields))
        return table


@dataclass(frozen=True)
class End:
    """The printout is complete."""


Event = LogonPrompt | Ready | Echo | Executed | NotAccepted | Page | Columns | Row | Rows | End


@dataclass(frozen=True)
class Command:
    """A parsed command: its verb and its parameters in order (a bare name has value "")."""

    verb: str
    params: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """Return the value of one parameter, None when absent."""
        for key, value in self.params:
            if key == name:
                return value
        return None


def parse_command(text: str) -> Command:
    """Parse `VERB:NAME=VALUE,...;` (or `VERB;`) or raise MMLError."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        raise MMLError(f"not an MML command: {text!r}")
    params = []
    body = match["params"] or ""
    for item in body.split(",") if body else []:
        param = _PARAM.fullmatch(item.strip())
        if param is None:
            raise MMLError(f"bad parameter {item!r} in {text!r}")
        params.append((param["name"], param["value"] or ""))
    return Command(match["verb"], tuple(params))


def _ascii(text: str) -> bytes:
    if len(text) > MAX_LINE or not _PRINTABLE.fullmatch(text):
        raise MMLError(f"not a printable MML line: {text!r}")
    return text.encode("ascii")


# What the client writes.


def wake() -> bytes:
    """Return the empty line that asks an idle line for its log-on prompt."""
    return b"\r\n"


def encode_line(text: str) -> bytes:
    """Return a log-on answer or a command as one line."""
    return _ascii(text) + b"\r\n"


def encode_command(text: str) -> bytes:
    """Return a well-formed command as one line, or raise MMLError."""
    parse_command(text)
    return encode_line(text.strip())


# What the switch writes.


def logon_prompt(field: str) -> bytes:
    """Return the `USERCODE:` or `PASSWORD:` prompt."""
    if field not in LOGON_FIELDS:
        raise MMLError(f"no log-on field {field!r}")
    return b"\r\n" + field.encode("ascii") + b":"


def prompt() -> bytes:
    """Return the command prompt."""
    return b"\r\n<"


def echo(command: str) -> bytes:
    """Return the echo of a received command."""
    return encode_line(command.strip())


def executed() -> bytes:
    """Return the answer of a command carried out."""
    return b"EXECUTED\r\n"


def not_accepted(code: int, reason: str) -> bytes:
    """Return the fault printout of a refused command."""
    if not 0 <= code <= 99999:
        raise MMLError(f"fault code {code} out of range")
    return b"NOT ACCEPTED\r\nFAULT CODE %d\r\n" % code + encode_line(reason.strip())


def page(title: str, number: int, columns: tuple[str, ...]) -> bytes:
    """Return the head of one printout page: title, page number, column names."""
    head = f"{title}  PAGE {number}"
    if not _TITLE.fullmatch(head):
        raise MMLError(f"bad printout title {title!r}")
    return b"\r\n" + encode_line(head) + b"\r\n" + row(columns)


def row(values: tuple[str, ...]) -> bytes:
    """Return one printout row."""
    fields = []
    for value in values:
        if value == EMPTY_FIELD or not _WORD.fullmatch(value):
            raise MMLError(f"printout field {value!r} is not one word")
        fields.append((value or EMPTY_FIELD).ljust(12))
    line = " ".join(fields).rstrip()
    # A row that reads as a page title or the end of the printout would be taken for one.
    if not fields or line == END or _TITLE.fullmatch(line):
        raise MMLError(f"printout row {values!r} cannot be told from a page title or END")
    return encode_line(line)


def rows(table: Sequence[tuple[str, ...]]) -> bytes:
    """Return printout rows of one width, as row() writes each, in one pass.

    What row() would refuse is refused: whatever the one pass cannot vouch for is written row
    by row.
    """
    if not table:
        return b""
    width = len(table[0])
    layout = "%-12s " * (width - 1) + "%s\r\n"
    try:
        text = "".join([layout % values for values in table])
    except TypeError:  # a row of another width
        pass
    else:
        if _reads_as_rows(text, width, "".join(chain.from_iterable(table))):
            return text.encode("ascii")
    return b"".join(row(values) for values in table)


def end() -> bytes:
    """Return the close of a printout."""
    return b"\r\nEND\r\n"


class State(Enum):
    """Where the client's decoder stands in the switch's output."""

    IDLE = "between answers"
    ANSWER = "after an echo"
    FAULT = "after NOT ACCEPTED"
    REASON = "after the fault code"
    COLUMNS = "after a page title"
    ROWS = "in a printout"


class SwitchOutput:
    """Decode what the switch sends into events, for the client.

    A decoder made ``hunting`` (for a line just opened, where a serial line may still hold the
    tail of an earlier session's answer) skips every line it cannot place until the first
    prompt, and is strict from then on. One made ``rows_at_once`` gives the rows it has
    complete as one Rows event where they read plainly, else a Row each.
    """

    def __init__(self, *, hunting: bool = False, rows_at_once: bool = False) -> None:
        self._buffer = bytearray()
        self._state = State.IDLE
        self._code = 0
        self._width = 0
        self._broken: MMLError | None = None
        self.hunting = hunting
        self.rows_at_once = rows_at_once

    @property
    def state(self) -> State:
        """Where the decoder stands."""
        return self._state

    def feed(self, data: bytes) -> list[Event]:
        """Add bytes; return the events they complete, in order."""
        if self._broken is not None:
            raise self._broken
        self._buffer += data
        events: list[Event] = []
        try:
            while self._buffer:
                if self._state is State.IDLE:
                    if self._prompt_incomplete():
                        break
                    token = self._prompt()
                    if token is not None:
                        self.hunting = self.hunting and not isinstance(token, Ready)
                        events.append(token)
                        continue
                elif self._state is State.ROWS and self.rows_at_once and not self.hunting:
                    block = self._rows()
                    if block is not None:
                        events.append(block)
                        continue
                newline = self._buffer.find(b"\n")
                if newline < 0:
                    if len(self._buffer) > MAX_LINE:
                        if not self.hunting:
                            raise MMLError(f"line longer than {MAX_LINE} characters")
                        self._buffer.clear()
                    break
                raw = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                event = self._placed(raw)
                if event is not None:
                    events.append(event)
        except MMLError as exc:
            self._broken = exc
            raise
        return events

    def end_of_stream(self) -> None:
        """Refuse a line that closed in the middle of an answer."""
        if self._broken is not None:
            raise self._broken
        if self._state is not State.IDLE or self._buffer.strip():
            raise MMLError(f"line ended {self._state.value}")

    def _rows(self) -> Rows | None:
        """Take the complete lines at the head of the buffer at once, up to an empty line."""
        buffer = self._buffer
        if buffer[:1] in (b"\r", b"\n"):  # an empty line: the printout's next page or its end
            return None
        end = buffer.rfind(b"\n") + 1
        blank = _BLANK_LINE.search(buffer, 0, end)
        if blank is not None:
            end = blank.start() + 1
        if end <= 1:
            return None
        block = bytes(buffer[:end])
        if block.translate(None, _ROW_BYTES):
            return None
        text = block.decode("ascii")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                return None
        probe = "\n" + text
        if (
            "\n " in probe  # a line with blanks around it: line by line, as it is stripped
            or " \n" in text
            or "\nEND\n" in probe
            or ("PAGE" in text and _TITLE_LINE.search(text))
        ):
            return None
        del buffer[:end]
        return Rows(text[:-1], text.count("\n"), self._width)

    def _prompt_incomplete(self) -> bool:
        return any(
            len(self._buffer) < len(token) and token.startswith(self._buffer)
            for token in _LOGON_TOKENS
        )

    def _prompt(self) -> Event | None:
        if self._buffer.startswith(b"<"):
            del self._buffer[:1]
            return Ready()
        for field, token in zip(LOGON_FIELDS, _LOGON_TOKENS, strict=True):
            if self._buffer.startswith(token):
                del self._buffer[: len(token)]
                return LogonPrompt(field)
        return None

    def _placed(self, raw: bytes) -> Event | None:
        if not self.hunting:
            return self._line(_text(raw))
        try:
            return self._line(_text(raw))
        except MMLError:
            self._state = State.IDLE
            return None

    def _line(self, line: str) -> Event | None:
        state = self._state
        if not line:
            if state is State.REASON:
                self._state = State.IDLE
                return NotAccepted(self._code, "")
            return None
        if state is State.IDLE:
            if line == NOT_ACCEPTED:
                self._state = State.FAULT
                return None
            if line.endswith(";"):
                self._state = State.ANSWER
                return Echo(line)
        elif state is State.ANSWER:
            if line == EXECUTED:
                self._state = State.IDLE
                return Executed()
            if line == NOT_ACCEPTED:
                self._state = State.FAULT
                return None
            title = _TITLE.fullmatch(line)
            if title is not None:
                self._state = State.COLUMNS
                return Page(title["title"], int(title["page"]))
        elif state is State.FAULT:
            fault = _FAULT.fullmatch(line)
            if fault is not None:
                self._code = int(fault["code"])
                self._state = State.REASON
                return None
        elif state is State.REASON:
            self._state = State.IDLE
            return NotAccepted(self._code, line)
        elif state is State.COLUMNS:
            names = tuple(line.split())
            self._width = len(names)
            self._state = State.ROWS
            return Columns(names)
        else:
            if line == END:
                self._state = State.IDLE
                return End()
            title = _TITLE.fullmatch(line)
            if title is not None:
                self._state = State.COLUMNS
                return Page(title["title"], int(title["page"]))
            values = tuple("" if v == EMPTY_FIELD else v for v in line.split())
            if len(values) == self._width:
                return Row(values)
        raise MMLError(f"unexpected line {state.value}: {line!r}")


class ClientInput:
    """Split what the client sends into lines, for the switch."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        """Add bytes; return the complete lines, without line ends or outer blanks."""
        self._buffer += data
        lines = []
        while (newline := self._buffer.find(b"\n")) >= 0:
            raw = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            lines.append(_text(raw))
        if len(self._buffer) > MAX_LINE:
            self._buffer.clear()
            raise MMLError(f"line longer than {MAX_LINE} characters")
        return lines


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("ascii").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise MMLError(f"non-ASCII bytes on the line: {raw[:40]!r}") from exc
    if len(text) > MAX_LINE or not _PRINTABLE.fullmatch(text):
        raise MMLError(f"control characters on the line: {raw[:40]!r}")
    return text.strip()
