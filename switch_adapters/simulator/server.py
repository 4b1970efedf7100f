"""The simulator's lines: a TCP listener or a pty, one thread per connection.

Server-side handler interface (stable; one per dialect). ``HANDLERS`` maps a dialect name to
``"module:function"``, imported when a simulator of that dialect starts. The function,

    serve(switch: Switch, conn: Connection) -> None

runs in its own thread for each connection (on a pty: each time a client opens the line) and
returns when ``conn.read()`` gives ``b""`` (the client hung up, or the server is stopping) or when
it hung up itself. For each command it parses, a handler:

1. takes the command's fault: ``fault = switch.faults.take()``;
2. ``fault.silent``: does nothing and answers nothing;
3. ``fault.garbage``: ``conn.write(switch.faults.noise())`` instead of an answer, does nothing;
4. ``fault.deny is not None``: answers with the dialect's denial (code ``fault.deny``, or its
   own code when that is ``""``), does nothing;
5. otherwise does the command on ``switch.store()`` (refusing a duplicate MID or an active ESN
   with the dialect's denial) and sends the answer with ``conn.answer(data, fault)``, which
   waits ``fault.delay`` first and, for ``fault.drop``, sends half of it and hangs up;
6. counts it: ``switch.stats.count("insert")`` (and ``"logon"``, ``"delete"``, ``"query"``,
   ``"dump"``, ``"denied"``, ``"garbled"``, ``"silenced"``, ``"dropped"``).

A handler asks for a log-on when ``switch.logon_name`` is set (checking ``switch.secret``), and
streams dumps from ``iter(switch.store())`` in parts of ``switch.part_size`` subscribers.
``conn.write`` raises ``ConnectionError`` once the line is gone; the handler just returns.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import serial
from serial import rfc2217

from switch_adapters.simulator.faults import Fault, Faults, Stats
from switch_adapters.simulator.store import Store

log = logging.getLogger(__name__)

HANDLERS: dict[str, str] = {
    "tl1": "switch_adapters.simulator.tl1:serve",
    "mml": "switch_adapters.simulator.mml:serve",
    "ber": "switch_adapters.simulator.ber:serve",
}

# How often blocked reads look up to see whether the server is stopping.
POLL_SECONDS = 0.05


@dataclass
class Switch:
    """Everything a dialect handler needs to act as the switch."""

    dialect: str
    store_path: Path
    sid: str = ""  # the switch's own name (TL1 target identifier); "" answers to any
    logon_name: str = ""  # empty: no log-on needed
    secret: str = ""
    part_size: int = 100  # subscribers per part of a dump
    rept_every: int = 5  # an autonomous message every so many answers (0: only on request)
    faults: Faults = field(default_factory=Faults)
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self._local = threading.local()

    def store(self) -> Store:
        """Return this thread's connection to the subscriber database."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.store_path)
        return store


Handler = Callable[[Switch, "Connection"], None]


def handler_for(dialect: str) -> Handler:
    """Import the server-side handler of a dialect."""
    try:
        module, _, name = HANDLERS[dialect].partition(":")
    except KeyError:
        raise ValueError(f"the simulator does not speak {dialect!r}") from None
    handler: Handler = getattr(import_module(module), name)
    return handler


class Connection:
    """One client's line to the simulated switch."""

    peer = ""

    def __init__(self, stopping: threading.Event, faults: Faults) -> None:
        self._stopping = stopping
        self._faults = faults
        self._gone = False

    def read(self) -> bytes:
        """Block for the next bytes; return b"" when the line is gone."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Send all bytes; raise ConnectionError when the line is gone."""
        raise NotImplementedError

    def hang_up(self) -> None:
        """Drop the line."""
        raise NotImplementedError

    def answer(self, data: bytes, fault: Fault) -> bool:
        """Send an answer as the fault says (late, or cut off); tell whether it all went."""
        self._faults.wait(fault.delay)
        if fault.drop:
            self.write(data[: max(1, len(data) // 2)])
            self.hang_up()
            return False
        self.write(data)
        return True


class TcpConnection(Connection):
    """A client on a TCP socket."""

    def __init__(self, sock: socket.socket, stopping: threading.Event, faults: Faults) -> None:
        super().__init__(stopping, faults)
        self._sock = sock
        host, port = sock.getpeername()[:2]
        self.peer = f"{host}:{port}"

    def read(self) -> bytes:
        while not self._gone and not self._stopping.is_set():
            ready, _, _ = select.select([self._sock], [], [], POLL_SECONDS)
            if ready:
                try:
                    return self._sock.recv(65536)
                except OSError:
                    return b""
        return b""

    def write(self, data: bytes) -> None:
        if self._gone:
            raise ConnectionError("line hung up")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self._gone = True
            raise ConnectionError(str(exc)) from exc

    def hang_up(self) -> None:
        self._gone = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


class _Telnet:
    """What RFC 2217's port manager writes its negotiation through: the bare socket."""

    def __init__(self, conn: TcpConnection) -> None:
        self._conn = conn

    def write(self, data: bytes) -> None:
        TcpConnection.write(self._conn, data)


class Rfc2217Connection(TcpConnection):
    """A client on TCP speaking RFC 2217, as through a terminal server to a serial port."""

    def __init__(self, sock: socket.socket, stopping: threading.Event, faults: Faults) -> None:
        super().__init__(sock, stopping, faults)
        # The serial port behind the terminal server: a loop port takes the line settings.
        self._serial = serial.serial_for_url("loop://")
        self._manager = rfc2217.PortManager(self._serial, _Telnet(self))

    def read(self) -> bytes:
        while True:
            raw = super().read()
            if not raw:
                return b""
            data = b"".join(self._manager.filter(raw))
            if data:
                return data

    def write(self, data: bytes) -> None:
        super().write(data.replace(rfc2217.IAC, rfc2217.IAC_DOUBLED))


class PtyConnection(Connection):
    """A client on the slave side of the simulator's pty."""

    def __init__(self, master: int, stopping: threading.Event, faults: Faults) -> None:
        super().__init__(stopping, faults)
        self._master = master
        self.peer = "pty"

    def read(self) -> bytes:
        while not self._gone and not self._stopping.is_set():
            events = _poll(self._master, POLL_SECONDS)
            if events & select.POLLIN:
                try:
                    return os.read(self._master, 65536)
                except OSError:
                    return b""  # EIO: the client closed the line
            if events & select.POLLHUP:
                return b""
        return b""

    def write(self, data: bytes) -> None:
        if self._gone:
            raise ConnectionError("line hung up")
        view = memoryview(data)
        while view:
            if self._stopping.is_set():
                raise ConnectionError("server stopping")
            if not _poll(self._master, POLL_SECONDS, select.POLLOUT) & select.POLLOUT:
                continue
            try:
                view = view[os.write(self._master, view) :]
            except OSError as exc:
                self._gone = True
                raise ConnectionError(str(exc)) from exc

    def hang_up(self) -> None:
        # A pty cannot be cut from this side without losing its name: the switch forgets the
        # session and stops answering it, as a modem hang-up would look to the client.
        self._gone = True


def _poll(fd: int, seconds: float, mask: int = select.POLLIN) -> int:
    poller = select.poll()
    poller.register(fd, mask)
    ready = poller.poll(seconds * 1000)
    return ready[0][1] if ready else 0


class SimulatorServer:
    """Serve one simulated switch on TCP or on a pty until stopped."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.handler = handler_for(switch.dialect)
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._master: int | None = None
        self._rfc2217 = False
        self.url = ""

    def listen_tcp(self, host: str, port: int, *, rfc2217: bool = False) -> str:
        """Listen on TCP (port 0: any free port); return the URL clients use.

        With rfc2217 the line is a serial port behind a terminal server (``rfc2217://``).
        """
        self._listener = socket.create_server((host, port))
        self._rfc2217 = rfc2217
        bound_host, bound_port = self._listener.getsockname()[:2]
        scheme = "rfc2217" if rfc2217 else "socket"
        self.url = f"{scheme}://{bound_host}:{bound_port}"
        self._spawn(self._accept_loop, "accept")
        return self.url

    def listen_pty(self) -> str:
        """Open a pty; return the slave device path clients open."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.url = os.ttyname(slave)
        os.close(slave)
        self._master = master
        self._spawn(self._pty_loop, "pty")
        return self.url

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            ready, _, _ = select.select([self._listener], [], [], POLL_SECONDS)
            if not ready:
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            kind = Rfc2217Connection if self._rfc2217 else TcpConnection
            conn = kind(sock, self.stopping, self.switch.faults)
            self._spawn(functools.partial(self._serve, conn), f"conn {conn.peer}")

    def _pty_loop(self) -> None:
        assert self._master is not None
        while not self.stopping.is_set():
            # Until a client opens the slave, the master reads as hung up.
            if _poll(self._master, POLL_SECONDS) & select.POLLHUP:
                self.stopping.wait(0.05)
                continue
            self._serve(PtyConnection(self._master, self.stopping, self.switch.faults))

    def _serve(self, conn: Connection) -> None:
        self.switch.stats.count("connections")
        name = self.switch.sid or self.switch.dialect
        log.info("%s: line from %s", name, conn.peer)
        try:
            self.handler(self.switch, conn)
        except ConnectionError:
            pass
        except Exception:
            log.exception("%s: handler failed", name)
        finally:
            if isinstance(conn, TcpConnection):
                conn.hang_up()
        log.info("%s: line from %s closed", name, conn.peer)

    def stop(self) -> None:
        """Stop listening and serving."""
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._master is not None:
            try:
                os.close(self._master)
            except OSError as exc:
                if exc.errno != errno.EBADF:
                    raise


__all__ = ["HANDLERS", "Connection", "SimulatorServer", "Switch", "handler_for"]
