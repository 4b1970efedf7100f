"""Run `cas demo` as a person does: the repo's .venv/bin/cas, in a folder, as a process.

The folder stands in for a fresh clone: it holds only a link to the repo's .venv, so the
demo's default data dir (the relative `var`) lands there and not in the developer's own
checkout. Every process the demo starts is recorded while it runs, so a test can tell that
none is left, and the fixture kills any that is.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
# Settings a developer's shell may carry that would point the demo elsewhere.
# What a person's shell does not set: the suite's own settings (CAS_PARTNERS=simulated among
# them) would hide what the demo must tell its commands itself.
FOREIGN = (
    "CAS_DATA_DIR",
    "CAS_DATABASE_URL",
    "CAS_URL",
    "CAS_PUBLIC_URL",
    "CAS_TWILIO_API_URL",
    "CAS_PARTNERS",
)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This environment without the settings that would point the demo elsewhere."""
    return {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("TWILIO_")}


def make_demo_command() -> list[str]:
    """The command `make demo` runs, read from the Makefile (`make -n`), as words."""
    shown = subprocess.run(
        ["make", "-n", "-s", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in shown.splitlines() if line.split()[-1:] == ["demo"])
    return line.split()


def process_table() -> dict[int, tuple[int, int, str, str]]:
    """Every process: pid -> (parent pid, process group, state, command line)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0], cmdline)
    return table


def descendants(pid: int) -> dict[int, str]:
    """The live processes under `pid` (children, theirs, ...): pid -> command line."""
    table = process_table()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _pgid, state, cmdline) in table.items():
            if ppid == parent and child not in found and state != "Z":
                found[child] = cmdline
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    entry = process_table().get(pid)
    return entry is not None and entry[2] != "Z"


class Demo:
    """One `cas demo` process and what it printed."""

    def __init__(self, folder: Path, args: list[str]) -> None:
        self.folder = folder
        self.proc = subprocess.Popen(
            args,
            cwd=folder,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a test's signal goes to the demo alone, as a kill would
        )
        self.lines: list[str] = []
        self.seen: dict[int, str] = {}  # every descendant seen, to clean up whatever is left
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        """Wait until a printed line contains `text`; return that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"the demo never printed {text!r}; it printed:\n{self.output}")

    def children(self) -> dict[int, str]:
        """The demo's live descendants now (and remember them)."""
        now = descendants(self.proc.pid)
        self.seen.update(now)
        return now

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send a signal and wait for the demo to exit; return its exit status."""
        self.children()
        self.proc.send_signal(signum)
        status = self.proc.wait(timeout)
        self._reader.join(timeout=10)
        return status

    def cas(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        """Run another `cas` command in the demo's folder, as the person would; return output."""
        done = subprocess.run(
            [".venv/bin/cas", *args],
            cwd=self.folder,
            env=clean_env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return f"exit {done.returncode}\n{done.stdout}{done.stderr}"

    def kill_leftovers(self) -> None:
        """SIGKILL the demo and whatever it started that still runs."""
        if self.proc.poll() is None:
            self.children()
            self.proc.kill()
        self.proc.wait(10)
        table = process_table()
        for pid, cmdline in self.seen.items():
            # Only a process still running what the demo started: never a pid reused since.
            if pid in table and table[pid][3] == cmdline:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
