"""The demo's outside parties: a simulator process per party (bureau, PVS, billing, E911).

Each is a supervised child that comes back on the same address when it dies, so the URLs the
web server and the worker were given stay right; billing and E911 keep their records on disk.
"""

from __future__ import annotations

from pathlib import Path

from activation.parties.sim_process import PartnerSimProcess, PartnerSims
from activation.settings import PARTIES
from ivr.supervisor import Supervisor


class PartnerChild:
    """A partner simulator process as the supervisor sees it."""

    def __init__(self, sim: PartnerSimProcess) -> None:
        self.sim = sim

    @property
    def pid(self) -> int:
        return self.sim.pid

    def poll(self) -> int | None:
        return self.sim.proc.poll()

    def stop(self) -> None:
        self.sim.stop()


def start_partners(supervisor: Supervisor, folder: Path, token: str) -> PartnerSims:
    """Start every party's simulator under the supervisor; return them (URLs, settings)."""
    sims = PartnerSims(folder, token)

    def starter(party: str):  # type: ignore[no-untyped-def]
        address = {"listen": "127.0.0.1:0"}  # any free port, then that one again

        def start() -> PartnerChild:
            sim = sims.start(party, address["listen"])
            address["listen"] = sim.url.removeprefix("http://")
            return PartnerChild(sim)

        return start

    for party in PARTIES:
        supervisor.add(party, starter(party))
    return sims
