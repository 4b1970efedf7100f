"""The demo's switches: a simulator process per switch, and osmo-hlr where it is installed.

Each is a supervised child that comes back on the same address when it dies (a switch row
names its line's address once per demo start), with the subscribers it kept on disk.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from activation.parties.switching import definition
from activation.secrets import Vault, load_master_secret
from activation.service_layer.reference import update_switch
from activation.settings import Settings
from activation.store.db import Database
from activation.store.models import Switch
from ivr.supervisor import Supervisor
from switch_adapters.osmo_hlr_daemon import OsmoHlrDaemon, start_osmo_hlr
from switch_adapters.simulator.process import SimulatorProcess, start_simulator


@dataclass(frozen=True)
class DemoSwitch:
    """What starting one switch's simulator needs."""

    name: str
    dialect: str
    logon_name: str
    logon_secret: str


class SimulatorChild:
    """A switch simulator process as the supervisor sees it."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim

    @property
    def pid(self) -> int:
        return self.sim.pid

    def poll(self) -> int | None:
        return self.sim.proc.poll()

    def stop(self) -> None:
        self.sim.stop()


class OsmoHlrChild:
    """The osmo-hlr daemon as the supervisor sees it."""

    def __init__(self, daemon: OsmoHlrDaemon) -> None:
        assert daemon.process is not None, "a started daemon has its process"
        self.daemon = daemon
        self.process = daemon.process

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        self.daemon.stop()


def start_switches(supervisor: Supervisor, settings: Settings, logs: Path) -> list[str]:
    """Start every demo switch under the supervisor; return a line saying where each is."""
    vault = Vault(load_master_secret(settings.secret_key, settings.data_dir))
    db = Database(settings.db_url)
    try:
        with db.read() as session:
            rows = session.scalars(select(Switch).order_by(Switch.name)).all()
            switches = [
                DemoSwitch(s.name, s.dialect, s.logon_name, definition(s, vault).logon_secret)
                for s in rows
            ]

        def start(switch: DemoSwitch) -> tuple[str | None, str]:
            if switch.dialect == "osmo-hlr":
                url = _osmo_hlr(supervisor, settings.data_dir / "osmo-hlr")
                return url, f"{switch.name} (osmo-hlr) at {url}" if url else ""
            url, control = _simulator(supervisor, switch, settings.data_dir, logs)
            return url, f"{switch.name} ({switch.dialect}) at {url}, faults: {control}"

        # All at once: each waits for its process to listen. Leaving the pool waits for every
        # start, so one that fails leaves none unsupervised.
        with ThreadPoolExecutor(max_workers=len(switches) or 1) as pool:
            started = list(pool.map(start, switches))
        urls = {switch.name: url for switch, (url, _line) in zip(switches, started, strict=True)}
        lines = [line for _url, line in started if line]
        with db.transaction() as session:
            for row in session.scalars(select(Switch)):
                url = urls.get(row.name)
                update_switch(
                    session, row, url or row.primary_url, row.backup_url, bool(url), "demo"
                )
    finally:
        db.dispose()
    return lines


def _simulator(
    supervisor: Supervisor, switch: DemoSwitch, data_dir: Path, logs: Path
) -> tuple[str, str]:
    # Port 0 at first: any free one; a restart takes the same ones again.
    address = {"listen": "127.0.0.1:0", "control": "127.0.0.1:0"}

    def start() -> SimulatorChild:
        sim = start_simulator(
            switch.dialect,
            data_dir / f"switch-{switch.name}.sqlite3",
            name=switch.logon_name,
            secret=switch.logon_secret,
            listen=address["listen"],
            control=address["control"],
            log_path=logs / f"switch-{switch.name}.log",
        )
        address["listen"] = urlsplit(sim.url).netloc
        address["control"] = sim.control_address or address["control"]
        return SimulatorChild(sim)

    child = supervisor.add(f"switch {switch.name}", start)
    assert isinstance(child, SimulatorChild)
    return child.sim.url, f"cas switch-fault {address['control']}"


def _osmo_hlr(supervisor: Supervisor, directory: Path) -> str | None:
    if shutil.which("osmo-hlr") is None:
        return None
    host: dict[str, str | None] = {"host": None}  # any free loopback address, then that one

    def start() -> OsmoHlrChild:
        daemon = start_osmo_hlr(directory.resolve(), host["host"])
        if daemon is None:
            raise RuntimeError("osmo-hlr is not installed")
        host["host"] = daemon.host
        return OsmoHlrChild(daemon)

    child = supervisor.add("osmo-hlr", start)
    assert isinstance(child, OsmoHlrChild)
    return child.daemon.ctrl_url
