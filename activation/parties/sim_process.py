"""Start a partner simulator as a real separate process, for tests and the demo.

    with start_partner_sim("billing", store=tmp_path / "billing", token="t") as sim:
        billing = HttpBilling(billing_client(sim.url, 5, token="t"))
        sim.control("down 2")

The process runs in its own process group and exits by itself when the process that started
it goes away (its standard input closes), so none is left behind.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import httpx

from activation.parties.desk import CONTROL_PATH
from activation.settings import PARTIES, PartyLink, Settings

_ROOT = Path(__file__).resolve().parents[2]
_LIVE: weakref.WeakSet[PartnerSimProcess] = weakref.WeakSet()


class PartnerSimProcess:
    """A running partner simulator and the ways to reach it."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        party: str,
        url: str,
        token: str,
        store: Path | None,
        log_path: Path,
    ) -> None:
        self.proc, self.party, self.url, self.token = proc, party, url, token
        self.store, self.log_path = store, log_path
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        """The simulator's process id (also its process group id)."""
        return self.proc.pid

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.proc.poll() is None

    def control(self, command: str) -> str:
        """Send a fault command (down [K], slow N [K], garbage [K], clear); return what holds."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = httpx.post(
            self.url + CONTROL_PATH,
            json={"command": command},
            headers=headers,
            timeout=10,
            trust_env=False,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"{self.party} simulator refused {command!r}: {answer.text}")
        return str(answer.json()["faults"])

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the simulator to stop (SIGTERM to its group); kill it if it does not."""
        _signal_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close()

    def kill(self) -> None:
        """Kill the simulator's process group at once, as a crash would."""
        _signal_group(self.proc, signal.SIGKILL)
        self.proc.wait()
        self._close()

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        _LIVE.discard(self)

    def __enter__(self) -> PartnerSimProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_partner_sim(
    party: str,
    *,
    store: str | Path | None = None,
    token: str = "",
    listen: str = "127.0.0.1:0",
    faults: Iterable[str] = (),
    log_path: str | Path | None = None,
    timeout: float = 20.0,
) -> PartnerSimProcess:
    """Start `cas partner-sim PARTY` as a process and wait until it listens."""
    if party not in PARTIES:
        raise ValueError(f"no simulator of {party!r}: {', '.join(PARTIES)}")
    args = [sys.executable, "-m", "activation.parties.sim_cli", party, "--listen", listen]
    store_path = Path(store) if store is not None else None
    if store_path is not None:
        args += ["--store", str(store_path)]
    for command in faults:
        args += ["--fault", command]
    args += ["--watch-parent"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env["CAS_PARTNER_SIM_TOKEN"] = token  # in the environment, never on a command line
    log_file = Path(log_path) if log_path else _log_beside(store_path, party)
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
        words = _first_line(proc, timeout).split()
        if len(words) != 2 or words[0] != "listening":
            raise RuntimeError(f"the {party} simulator said {' '.join(words)!r}")
    except BaseException as exc:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        if isinstance(exc, Exception):
            tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}; its log {log_file} ends:\n{tail}") from exc
        raise
    return PartnerSimProcess(proc, party, words[1], token, store_path, log_file)


def _log_beside(folder: Path | None, party: str) -> Path:
    if folder is None:
        folder = Path(os.environ.get("CAS_DATA_DIR", "var")) / "partners"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{party}.log"


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


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


class PartnerSims:
    """One simulator process per outside party, and the settings that point CAS at them."""

    def __init__(self, folder: Path, token: str) -> None:
        self.folder, self.token = folder, token
        self.processes: dict[str, PartnerSimProcess] = {}

    def start(self, party: str, listen: str = "127.0.0.1:0") -> PartnerSimProcess:
        """Start (or start again) one party's simulator, its records in folder/PARTY."""
        store = self.folder / party
        self.processes[party] = start_partner_sim(
            party,
            store=store if party in ("billing", "e911", "warehouse") else None,
            token=self.token,
            listen=listen,
            log_path=_log_beside(self.folder, party),
        )
        return self.processes[party]

    def restart(self, party: str) -> PartnerSimProcess:
        """Start a party's simulator again on the address it had (after it died)."""
        old = self.processes[party]
        if old.alive():
            old.stop()
        return self.start(party, old.url.removeprefix("http://"))

    @property
    def env(self) -> dict[str, str]:
        """CAS_<PARTY>_URL and CAS_<PARTY>_TOKEN of every party, for CAS's processes."""
        env = {}
        for party, sim in self.processes.items():
            env[f"CAS_{party.upper()}_URL"] = sim.url
            env[f"CAS_{party.upper()}_TOKEN"] = self.token
        return env

    def configure(self, settings: Settings) -> Settings:
        """The settings with every party pointed at its simulator."""
        links = {
            f"{party}_link": PartyLink(sim.url, token=self.token)
            for party, sim in self.processes.items()
        }
        return replace(settings, **links)  # type: ignore[arg-type]

    def lines(self) -> list[str]:
        """One line per party: where it listens and how to make it misbehave."""
        return [
            f"{party} at {sim.url}  (faults: CAS_PARTNER_SIM_TOKEN={self.token} "
            f"cas partner-sim fault {sim.url} down|slow N|garbage|clear)"
            for party, sim in self.processes.items()
        ]

    def stop(self) -> None:
        """Stop every simulator."""
        for sim in self.processes.values():
            if sim.alive():
                sim.stop()


def start_partner_sims(folder: Path, token: str) -> PartnerSims:
    """Start a simulator process of each outside party (what `cas demo` runs)."""
    sims = PartnerSims(folder, token)
    try:
        for party in PARTIES:
            sims.start(party)
    except BaseException:
        sims.stop()
        raise
    return sims
