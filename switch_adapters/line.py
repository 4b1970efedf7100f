"""Lines to a switch: pyserial URL transports with deadlines, reconnect and failover.

A ``Line`` is one open port, whatever its URL (``serial.serial_for_url``): a device path such as
``/dev/ttyS0`` or a pty slave, ``socket://host:port``, ``rfc2217://host:port`` or ``loop://``.
It reads and writes bytes and never blocks past the absolute deadline it is given (a
``time.monotonic()`` value, called ``until`` throughout the adapters). A hang-up or a port
error raises ``LineDown``; no bytes before the deadline raises ``SwitchTimeout``.

A ``Trunk`` is a switch's primary and backup lines seen as one. ``connect`` opens the lines in
turn and runs the dialect's greeting (its log-on) on each: a line that cannot be opened, or whose
switch does not answer the greeting, fails over to the next. A line that has worked stays first
for the next reconnect. ``ensure`` hands out the open line, reconnecting a line that was hung up
and running the keep-alive hook first when the line has been idle for ``keepalive_interval``
seconds, so a dead line is noticed before a real command is sent into it.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable, Sequence

import serial
from serial import rfc2217
from serial.urlhandler import protocol_socket

from switch_adapters.port import Garbled, LineDown, SwitchDenied, SwitchError, SwitchTimeout

log = logging.getLogger(__name__)

# Ports without a file descriptor (loop://, rfc2217://) are polled: a deadline may be overrun
# by at most this much.
POLL_SECONDS = 0.02
READ_CHUNK = 65536

# (line, until) -> None; raises a SwitchError when the switch does not answer properly.
Greeting = Callable[["Line", float], None]


def remaining(until: float) -> float:
    """Return the seconds left before an absolute monotonic deadline (never negative)."""
    return max(0.0, until - time.monotonic())


class Line:
    """One open pyserial port to a switch."""

    def __init__(self, switch: str, url: str, port: serial.SerialBase) -> None:
        self.switch = switch
        self.url = url
        self._port = port
        self._fd: int | None = None
        try:
            self._fd = port.fileno()
        except (AttributeError, NotImplementedError, OSError, serial.SerialException):
            self._fd = None
        self._last_used = time.monotonic()
        self.closed = False

    @classmethod
    def open(cls, switch: str, url: str, until: float, *, baudrate: int = 9600) -> Line:
        """Open the port named by a pyserial URL, giving up at the deadline."""
        try:
            port = serial.serial_for_url(url, baudrate=baudrate, do_not_open=True)
        except (ValueError, serial.SerialException) as exc:
            raise LineDown(switch, f"cannot use {url}: {exc}") from exc
        outcome: list[BaseException | None] = []

        def opener() -> None:
            try:
                port.open()
                outcome.append(None)
            except BaseException as exc:  # handed back to the waiting thread
                outcome.append(exc)
            if abandoned.is_set():
                port.close()

        # Opening a socket or an RFC 2217 port can block for seconds; the deadline rules.
        abandoned = threading.Event()
        worker = threading.Thread(target=opener, name=f"open {url}", daemon=True)
        worker.start()
        worker.join(remaining(until))
        if not outcome:
            abandoned.set()
            if outcome:  # it opened just now, after all
                port.close()
            raise LineDown(switch, f"{url} did not open before the deadline")
        if outcome[0] is not None:
            raise LineDown(switch, f"cannot open {url}: {outcome[0]}") from outcome[0]
        line = cls(switch, url, port)
        port.timeout = 0 if line._fd is not None else POLL_SECONDS
        return line

    @property
    def idle_seconds(self) -> float:
        """Seconds since bytes last went either way."""
        return time.monotonic() - self._last_used

    def read(self, until: float) -> bytes:
        """Return the next bytes from the switch (at least one), waiting until the deadline."""
        while True:
            try:
                data = self._read_once(until)
            except (serial.SerialException, OSError) as exc:
                self.close()
                raise LineDown(self.switch, f"{self.url} hung up: {exc}") from exc
            if data:
                self._last_used = time.monotonic()
                return data
            if time.monotonic() >= until:
                raise SwitchTimeout(self.switch, f"no answer on {self.url} before the deadline")

    def _read_once(self, until: float) -> bytes:
        if self.closed:
            raise serial.SerialException("line closed")
        if self._fd is not None:
            ready, _, _ = select.select([self._fd], [], [], remaining(until))
            if not ready:
                return b""
            data = self._port.read(READ_CHUNK)
            if not data:
                # Readable but empty is how a hung-up pty or socket looks.
                raise serial.SerialException("end of file")
            return bytes(data)
        data = self._port.read(1)
        if data:
            waiting = self._port.in_waiting
            if waiting:
                data += self._port.read(min(waiting, READ_CHUNK))
        return bytes(data)

    def write(self, data: bytes) -> None:
        """Send bytes to the switch."""
        try:
            if self.closed:
                raise serial.SerialException("line closed")
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LineDown(self.switch, f"{self.url} hung up: {exc}") from exc
        self._last_used = time.monotonic()

    def close(self) -> None:
        """Close the port; later reads and writes raise LineDown."""
        if self.closed:
            return
        self.closed = True
        if isinstance(self._port, protocol_socket.Serial | rfc2217.Serial):
            # pyserial's network ports sleep 0.3 s after closing "for quick reconnects"; that
            # would eat a reconnect's deadline, so the sleep happens on a thread of its own.
            threading.Thread(target=self._close_port, name=f"close {self.url}", daemon=True).start()
        else:
            self._close_port()

    def _close_port(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            log.debug("closing %s failed", self.url, exc_info=True)


class Trunk:
    """A switch's primary and backup lines, with reconnect, failover and keep-alive."""

    def __init__(
        self,
        switch: str,
        urls: Sequence[str],
        greet: Greeting,
        *,
        keepalive: Greeting | None = None,
        keepalive_interval: float = 60.0,
        baudrate: int = 9600,
    ) -> None:
        if not urls:
            raise ValueError(f"switch {switch} has no line")
        self.switch = switch
        self.urls = list(dict.fromkeys(urls))
        self._greet = greet
        self._keepalive = keepalive
        self.keepalive_interval = keepalive_interval
        self._baudrate = baudrate
        self.line: Line | None = None
        self._preferred = self.urls[0]
        self.connects = 0  # how many lines were opened and greeted, for logs and tests

    @property
    def url(self) -> str:
        """The URL of the line in use, or of the one tried first next time."""
        return self.line.url if self.line is not None else self._preferred

    def connect(self, until: float) -> Line:
        """Open and greet the first line that answers, primary first; fail over on silence."""
        self.hang_up()
        order = [self._preferred] + [u for u in self.urls if u != self._preferred]
        failures: list[SwitchError] = []
        for index, url in enumerate(order):
            # Each line left gets an equal share of the time left, so a silent primary
            # still leaves the backup time to answer.
            share = time.monotonic() + remaining(until) / (len(order) - index)
            line: Line | None = None
            try:
                line = Line.open(self.switch, url, share, baudrate=self._baudrate)
                self._greet(line, share)
            except SwitchDenied:
                if line is not None:
                    line.close()
                raise
            except (LineDown, SwitchTimeout, Garbled) as exc:
                if line is not None:
                    line.close()
                failures.append(exc)
                log.warning("%s: line %s failed: %s", self.switch, url, exc.message)
                continue
            if url != order[0]:
                log.warning("%s: failed over to %s", self.switch, url)
            self.line = line
            self._preferred = url
            self.connects += 1
            return line
        raise _worst(self.switch, failures)

    def ensure(self, until: float) -> Line:
        """Return an open line, reconnecting or checking an idle one with the keep-alive."""
        line = self.line
        if line is None or line.closed:
            return self.connect(until)
        if self._keepalive is not None and line.idle_seconds >= self.keepalive_interval:
            try:
                self._keepalive(line, until)
            except (LineDown, SwitchTimeout, Garbled) as exc:
                log.warning("%s: keep-alive on %s failed: %s", self.switch, line.url, exc.message)
                return self.connect(until)
        return line

    def hang_up(self) -> None:
        """Close the line in use; the next ensure() reconnects."""
        if self.line is not None:
            self.line.close()
            self.line = None

    close = hang_up


def _worst(switch: str, failures: list[SwitchError]) -> SwitchError:
    """Pick the error that says most about why no line worked."""
    detail = "; ".join(f.message for f in failures)
    if any(isinstance(f, SwitchTimeout) for f in failures):
        return SwitchTimeout(switch, detail)
    if any(isinstance(f, Garbled) for f in failures):
        return Garbled(switch, detail)
    return LineDown(switch, detail)


def discard_waiting(line: Line, until: float) -> None:
    """Throw away what an earlier session left unread: a serial line keeps it."""
    while time.monotonic() < until:
        try:
            line.read(time.monotonic())
        except SwitchTimeout:
            return
