"""Start and stop a private osmo-hlr (Osmocom's HLR daemon) with its own config and database.

osmo-hlr 1.5 with libosmoctrl 1.7 (Debian 12) listens on fixed ports: CTRL 4259, VTY 4258 and
GSUP 4222; its config can choose the address but not the port. So each daemon gets a loopback
address of its own (127.x.y.z: all of 127/8 is loopback on Linux) on which those ports are
free, and several can run side by side, beside an HLR or anything else on 127.0.0.1.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

CTRL_PORT = 4259
VTY_PORT = 4258
GSUP_PORT = 4222
INSTALL_HINT = "install it with: apt-get install osmo-hlr"

CONFIG = """\
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging print extended-timestamp 1
 logging level main notice
 logging level db notice
 logging level ctrl info
{enable_password}line vty
 bind {host}
ctrl
 bind {host}
hlr
 gsup
  bind ip {host}
"""


class OsmoHlrMissing(RuntimeError):
    """The osmo-hlr program is not installed."""


class OsmoHlrStartError(RuntimeError):
    """osmo-hlr did not come up."""


def osmo_hlr_binary() -> str | None:
    """Return the path of the osmo-hlr program, or None when it is not installed."""
    return shutil.which("osmo-hlr")


def _ports_free(host: str) -> bool:
    for port in (CTRL_PORT, VTY_PORT, GSUP_PORT):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


def free_loopback_host(attempts: int = 50) -> str:
    """Return a loopback address on which the HLR's fixed ports are all free."""
    for _ in range(attempts):
        host = f"127.{random.randint(100, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
        if _ports_free(host):
            return host
    if _ports_free("127.0.0.1"):  # a host whose loopback is only 127.0.0.1
        return "127.0.0.1"
    raise OsmoHlrStartError("no loopback address with ports 4222, 4258 and 4259 free")


@dataclass
class OsmoHlrDaemon:
    """One osmo-hlr process keeping its config, database and log in a directory."""

    directory: Path
    host: str
    binary: str = "osmo-hlr"
    enable_password: str = ""  # what the VTY asks before privileged commands (the IMEI)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def ctrl_url(self) -> str:
        """The switch line URL of its CTRL interface (its VTY is the port below)."""
        return f"socket://{self.host}:{CTRL_PORT}"

    @property
    def config_file(self) -> Path:
        """The configuration written at start."""
        return self.directory / "osmo-hlr.cfg"

    @property
    def database(self) -> Path:
        """The HLR's SQLite database file."""
        return self.directory / "hlr.db"

    @property
    def log_file(self) -> Path:
        """Where the daemon's log goes."""
        return self.directory / "osmo-hlr.log"

    def start(self, timeout: float = 10.0) -> None:
        """Start the daemon and wait until its CTRL interface answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        password = f"enable password {self.enable_password}\n" if self.enable_password else ""
        self.config_file.write_text(CONFIG.format(host=self.host, enable_password=password))
        self._log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_file), "-l", str(self.database), "-s"],
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for the caller does not reach it first
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                self.stop()
                raise OsmoHlrStartError(f"osmo-hlr exited at start: {self._log_tail()}")
            try:
                socket.create_connection((self.host, CTRL_PORT), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise OsmoHlrStartError(f"osmo-hlr did not answer within {timeout} s: {self._log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL when it lingers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused daemon cannot take SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> OsmoHlrDaemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _log_tail(self) -> str:
        lines = self.log_file.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "(no log)"


def start_osmo_hlr(
    directory: Path, host: str | None = None, timeout: float = 10.0, enable_password: str = ""
) -> OsmoHlrDaemon | None:
    """Start osmo-hlr in a directory of its own; None when osmo-hlr is not installed."""
    binary = osmo_hlr_binary()
    if binary is None:
        return None
    tries = 1 if host else 3  # another process may take a chosen address before the start
    for attempt in range(1, tries + 1):
        # Absolute: the daemon runs in its directory and reads the paths it is given from there.
        daemon = OsmoHlrDaemon(
            Path(directory).resolve(), host or free_loopback_host(), binary, enable_password
        )
        try:
            daemon.start(timeout)
        except OsmoHlrStartError:
            if attempt == tries:
                raise
            continue
        return daemon
    return None  # not reached: the last attempt returns or raises


def require_osmo_hlr(
    directory: Path, host: str | None = None, enable_password: str = ""
) -> OsmoHlrDaemon:
    """Start osmo-hlr as start_osmo_hlr does, raising OsmoHlrMissing when it is not installed."""
    daemon = start_osmo_hlr(directory, host, enable_password=enable_password)
    if daemon is None:
        raise OsmoHlrMissing(f"osmo-hlr is not installed; {INSTALL_HINT}")
    return daemon
