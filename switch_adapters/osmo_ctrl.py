"""Osmocom's CTRL and VTY on the wire, for driving osmo-hlr.

CTRL: IPA frames (2-byte big-endian length of what follows the protocol byte, protocol 0xEE,
extension 0x00 for CTRL) carrying "GET|SET <id> <variable> [value]"; the answer is GET_REPLY,
SET_REPLY or ERROR with the same id ("err" when the id could not be read), and TRAPs may come
at any time. The codec below does no I/O. The VTY is a telnet command line: a command, its
echo, its output lines, then the next prompt.

Every wait on a line is bounded by a Deadline; what goes wrong is raised as TimedOut,
LineLost, Refused or CtrlSyntaxError, which the session turns into port.py's typed errors.
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

IPA_OSMO = 0xEE  # Osmocom's IPA extension protocol; its first payload byte says which one
IPA_CCM = 0xFE  # IPA connection management: PING 0x00, PONG 0x01
CTRL_EXTENSION = 0x00
CONNECT_TIMEOUT = 5.0


# -- the CTRL codec: bytes in, messages out, no I/O ---------------------------------------


class CtrlSyntaxError(ValueError):
    """Bytes that are not an IPA-framed CTRL message."""


@dataclass(frozen=True)
class CtrlReply:
    """One CTRL message from the HLR."""

    verb: str  # GET_REPLY, SET_REPLY, ERROR or TRAP
    ident: str  # the id of the command answered; "err" when the HLR could not read it
    var: str  # empty for ERROR
    value: str  # the reason, for ERROR


def encode_ctrl(text: str) -> bytes:
    """Frame one CTRL command for the wire."""
    payload = bytes([CTRL_EXTENSION]) + text.encode("ascii")
    if len(payload) > 0xFFFF:
        raise ValueError("CTRL command longer than an IPA frame")
    return len(payload).to_bytes(2, "big") + bytes([IPA_OSMO]) + payload


def take_frame(buffer: bytearray) -> tuple[int, bytes] | None:
    """Remove and return the first complete IPA frame (protocol, payload), if any."""
    if len(buffer) < 3:
        return None
    length, protocol = int.from_bytes(buffer[:2], "big"), buffer[2]
    if protocol not in (IPA_OSMO, IPA_CCM) or length == 0:
        raise CtrlSyntaxError(f"not an IPA CTRL frame: {bytes(buffer[:8]).hex()}")
    if len(buffer) < 3 + length:
        return None
    payload = bytes(buffer[3 : 3 + length])
    del buffer[: 3 + length]
    return protocol, payload


def ctrl_text(payload: bytes) -> str:
    """Return the CTRL text an IPA_OSMO payload carries."""
    if payload[0] != CTRL_EXTENSION:
        raise CtrlSyntaxError(f"IPA extension {payload[0]:#04x} is not CTRL")
    try:
        return payload[1:].decode("ascii")
    except UnicodeDecodeError as exc:
        raise CtrlSyntaxError(f"CTRL text is not ASCII: {payload[1:40]!r}") from exc


def parse_ctrl(text: str) -> CtrlReply:
    """Parse one CTRL message sent by the HLR."""
    verb, _, rest = text.partition(" ")
    if verb == "ERROR":
        ident, _, reason = rest.partition(" ")
        var, value = "", reason
    elif verb in ("GET_REPLY", "SET_REPLY", "TRAP"):
        ident, _, rest = rest.partition(" ")
        var, _, value = rest.partition(" ")
        if not var or var.isspace():
            raise CtrlSyntaxError(f"CTRL {verb} without a variable: {text[:60]!r}")
    else:
        raise CtrlSyntaxError(f"not a CTRL answer: {text[:60]!r}")
    if not (ident.isascii() and ident.isdigit()) and ident != "err":
        raise CtrlSyntaxError(f"CTRL answer with a bad id: {text[:60]!r}")
    return CtrlReply(verb, ident, var, value)


def parse_info(value: str) -> dict[str, str]:
    """Return the fields of a subscriber.*.info value ("\\nkey\\tvalue" lines)."""
    return dict(line.split("\t", 1) for line in value.splitlines() if "\t" in line)


# -- the lines: one TCP connection each, every wait bounded by a deadline -----------------


class TimedOut(Exception):
    """The deadline passed before the HLR answered."""


class LineLost(Exception):
    """The connection could not be opened or went away."""


class Refused(Exception):
    """The HLR answered and refused."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


class Deadline:
    """A point in time no wait may pass."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Return the seconds left, raising TimedOut when there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimedOut("no answer before the deadline")
        return left

    def share(self, fraction: float) -> Deadline:
        """Return a deadline after the given fraction of the time left."""
        return Deadline(max(0.0, self.end - time.monotonic()) * fraction)


def connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    """Open a TCP connection, or raise LineLost."""
    try:
        return socket.create_connection((host, port), min(deadline.left(), CONNECT_TIMEOUT))
    except OSError as exc:
        raise LineLost(f"{host}:{port}: {exc}") from exc


class Line:
    """A TCP connection whose every read waits no longer than a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def alive(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return True
        try:  # readable with nothing to read means the peer closed the line
            return bool(self.sock.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def send(self, data: bytes, deadline: Deadline) -> None:
        try:
            self.sock.settimeout(deadline.left())
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise TimedOut("the HLR does not take the command") from exc
        except OSError as exc:
            raise LineLost(f"sending: {exc}") from exc

    def receive(self, deadline: Deadline) -> bytes:
        try:
            self.sock.settimeout(deadline.left())
            data = self.sock.recv(65536)
        except TimeoutError as exc:
            raise TimedOut("no answer before the deadline") from exc
        except OSError as exc:
            raise LineLost(f"receiving: {exc}") from exc
        if not data:
            raise LineLost("the HLR closed the line")
        return data

    def close(self) -> None:
        self.sock.close()


PING, PONG = b"\x00\x01\xfe\x00", b"\x00\x01\xfe\x01"


class CtrlLine(Line):
    """The CTRL interface: commands out, their answers in, traps and pings dealt with."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.buffer = bytearray()

    def next_reply(self, deadline: Deadline) -> CtrlReply:
        """Return the next answer, leaving out traps and IPA pings and pongs."""
        while True:
            protocol, payload = self._next_frame(deadline)
            if protocol == IPA_OSMO:
                reply = parse_ctrl(ctrl_text(payload))
                if reply.verb != "TRAP":
                    return reply
            elif payload[0] == 0x00:  # the HLR checks on us: PONG keeps the line
                self.send(PONG, deadline)

    def ping(self, deadline: Deadline) -> None:
        """Prove the HLR answers: IPA PING, and wait for its PONG."""
        self.send(PING, deadline)
        while self._next_frame(deadline) != (IPA_CCM, PONG[3:]):
            pass

    def _next_frame(self, deadline: Deadline) -> tuple[int, bytes]:
        while (frame := take_frame(self.buffer)) is None:
            self.buffer += self.receive(deadline)
        return frame


_IAC, _SB, _SE = 255, 250, 240


def strip_telnet(data: bytes) -> tuple[bytes, bytes]:
    """Split telnet bytes into text without negotiations and an unfinished tail."""
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] != _IAC:
            out.append(data[i])
            i += 1
        elif i + 1 >= len(data):
            return bytes(out), data[i:]
        elif data[i + 1] == _IAC:
            out.append(_IAC)
            i += 2
        elif data[i + 1] == _SB:
            end = data.find(bytes([_IAC, _SE]), i + 2)
            if end < 0:
                return bytes(out), data[i:]
            i = end + 2
        elif 251 <= data[i + 1] <= 254:  # WILL, WONT, DO, DONT take an option byte
            if i + 2 >= len(data):
                return bytes(out), data[i:]
            i += 3
        else:
            i += 2
    return bytes(out), b""


class VtyLine(Line):
    """The HLR's telnet VTY: a command line answering until its next prompt."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        super().__init__(sock)
        self.tail, self.text = b"", ""
        self.prompts: tuple[re.Pattern[str], ...] = (re.compile(r"^(\S+)[>#] $"),)
        for _ in self._lines(deadline, None):
            pass  # the banner, up to the first prompt, which names the host
        host = self.prompts[0].match(self.text)
        if host is None:
            raise CtrlSyntaxError(f"VTY prompt {self.text!r}")
        self.prompts = (re.compile(re.escape(host[1]) + r"[>#] $"), re.compile(r"^Password: $"))

    def enable(self, secret: str, deadline: Deadline) -> None:
        self.send(b"enable\n", deadline)
        output = list(self._lines(deadline, None))
        if self.text == "Password: ":
            self.send(secret.encode("ascii") + b"\n", deadline)
            output = list(self._lines(deadline, None))
        if not self.text.endswith("# "):
            raise Refused("enable", " ".join(output) or "VTY enable refused")

    def run(self, command: str, deadline: Deadline, idle: float | None = None) -> Iterator[str]:
        """Send one command line and yield the lines it prints."""
        self.send(command.encode("ascii") + b"\n", deadline)
        lines = self._lines(deadline, idle)
        for line in lines:
            if line != command:  # the VTY echoes the command before answering
                yield line
                break
        yield from lines

    def _lines(self, deadline: Deadline, idle: float | None) -> Iterator[str]:
        self.text = ""
        while True:
            head, newline, rest = self.text.partition("\r\n")
            if newline:
                self.text = rest
                yield head
                continue
            if any(prompt.match(self.text) for prompt in self.prompts):
                return
            data = self.receive(Deadline(idle) if idle else deadline)
            clean, self.tail = strip_telnet(self.tail + data)
            try:
                self.text += clean.decode("ascii")
            except UnicodeDecodeError as exc:
                raise CtrlSyntaxError(f"VTY output is not ASCII: {clean[:40]!r}") from exc
