"""Start the switch simulator as a real separate process, for tests and the demo.

    with start_simulator("tl1", tmp_path / "hou1.db", name="cas", secret="hou1-secret") as sim:
        session = open_session(sim.definition("HOU1"))
        sim.control("deny 1 IDNV")
        ...
        assert sim.subscribers() == [...]

The process runs in its own process group (``stop`` and ``kill`` end the whole group) and exits
by itself when the process that started it goes away, so none is left behind.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from switch_adapters.port import CommandTemplate, Subscriber, SwitchDefinition
from switch_adapters.simulator.store import Store

_ROOT = Path(__file__).resolve().parents[2]
_LIVE: weakref.WeakSet[SimulatorProcess] = weakref.WeakSet()


class SimulatorProcess:
    """A running simulator process and the ways to reach it."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        *,
        dialect: str,
        url: str,
        control_address: str | None,
        store_path: Path,
        name: str,
        secret: str,
        sid: str = "",
        log_path: Path | None = None,
    ) -> None:
        self.proc = proc
        self.dialect = dialect
        self.url = url
        self.control_address = control_address
        self.store_path = store_path
        self.name = name
        self.secret = secret
        self.sid = sid
        self.log_path = log_path
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        """The simulator's process id (also its process group id)."""
        return self.proc.pid

    def alive(self) -> bool:
        """Tell whether the process is still running."""
        return self.proc.poll() is None

    def control(self, command: str, timeout: float = 10.0) -> str:
        """Send one command to the control port; return its one-line answer."""
        if self.control_address is None:
            raise RuntimeError("simulator started without a control port")
        host, _, port = self.control_address.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(command.encode() + b"\n")
            with sock.makefile("rb") as stream:
                reply = stream.readline().decode().strip()
        if not reply:
            raise RuntimeError(f"no answer to {command!r}")
        return reply

    def stats(self) -> dict[str, int]:
        """Return the simulator's counters (and `subscribers`) from the control port."""
        reply = self.control("stats")
        if not reply.startswith("ok"):
            raise RuntimeError(reply)
        pairs = (word.partition("=") for word in reply.split()[1:])
        return {name: int(value) for name, _, value in pairs}

    def store(self) -> Store:
        """Open the simulator's subscriber database for reading."""
        return Store(self.store_path, readonly=True)

    def subscribers(self) -> list[Subscriber]:
        """Return every subscriber the simulator holds, ordered by MID."""
        with self.store() as store:
            return list(store)

    def definition(
        self,
        name: str = "",
        *,
        backup_url: str | None = None,
        primary_url: str | None = None,
        commands: Mapping[str, CommandTemplate] | None = None,
        code: str = "",
        npa_nxx: tuple[str, ...] = (),
    ) -> SwitchDefinition:
        """Return a switch definition that reaches this simulator (named as its SID)."""
        name = name or self.sid or "SIM"
        return SwitchDefinition(
            name=name,
            dialect=self.dialect,
            code=code or name,
            primary_url=primary_url or self.url,
            backup_url=backup_url,
            logon_name=self.name,
            logon_secret=self.secret,
            commands=dict(commands or {}),
            npa_nxx=npa_nxx,
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the simulator to stop (SIGTERM to its group); kill it if it does not."""
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close()

    def kill(self) -> None:
        """Kill the simulator's process group at once, as a crash would."""
        self._signal(signal.SIGKILL)
        self.proc.wait()
        self._close()

    def _signal(self, signum: int) -> None:
        _signal_group(self.proc, signum)

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        _LIVE.discard(self)

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    dialect: str,
    store_path: str | Path,
    *,
    name: str = "",
    secret: str = "",
    sid: str = "",
    pty: bool = False,
    rfc2217: bool = False,
    faults: Iterable[str] = (),
    listen: str = "127.0.0.1:0",
    control: str | None = "127.0.0.1:0",
    extra_args: Sequence[str] = (),
    log_path: str | Path | None = None,
    verbose: bool = False,
    timeout: float = 20.0,
) -> SimulatorProcess:
    """Start a simulator process and wait until it listens."""
    store_path = Path(store_path)
    log_file = Path(log_path) if log_path else store_path.with_name(store_path.name + ".log")
    args = [sys.executable, "-m", "switch_adapters.simulator", "--dialect", dialect]
    args += ["--store", str(store_path), "--name", name, "--secret", secret, "--sid", sid]
    args += ["--pty"] if pty else ["--listen", listen, *(["--rfc2217"] if rfc2217 else [])]
    args += ["--control", control] if control else []
    for fault in faults:
        args += ["--fault", fault]
    args += ["--watch-parent", *(["--verbose"] if verbose else []), *extra_args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    try:
        first = _first_line(proc, timeout)
        words = first.split()
        if len(words) != 4 or words[0] != "listening":
            raise RuntimeError(f"simulator said {first!r}")
    except BaseException as exc:
        _end_group(proc)
        if isinstance(exc, Exception):
            tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}; its log {log_file} ends:\n{tail}") from exc
        raise
    return SimulatorProcess(
        proc,
        dialect=dialect,
        url=words[1],
        control_address=None if words[3] == "-" else words[3],
        store_path=store_path,
        name=name,
        secret=secret,
        sid=sid,
        log_path=log_file,
    )


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    _signal_group(proc, signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    until = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = until - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"simulator did not start within {timeout} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"simulator exited with {proc.wait()} before listening")
            data += chunk
    return data.split(b"\n", 1)[0].decode().strip()


@atexit.register
def _kill_leftovers() -> None:
    for sim in list(_LIVE):
        if sim.alive():
            sim.kill()


__all__ = ["SimulatorProcess", "start_simulator"]
