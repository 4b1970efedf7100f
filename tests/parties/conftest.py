"""The four outside parties as simulator processes and in-process simulators, one adapter each.

Every fixture named after a party is parametrized: the same tests run over the simulator
process (through the HTTP adapter, with credentials) and over the in-process simulator.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from activation.parties.billing import HttpBilling, billing_client
from activation.parties.bureau import HttpBureau, bureau_client
from activation.parties.e911 import HttpE911, e911_client
from activation.parties.pvs import HttpPVS, pvs_client
from activation.parties.sim_process import PartnerSimProcess, start_partner_sim
from activation.parties.simulators import (
    SimulatedBilling,
    SimulatedBureau,
    SimulatedE911,
    SimulatedPVS,
)

TOKEN = "partner-test-token"
DEADLINE = 5.0
KINDS = ["process", "in_process"]
_codes = itertools.count(10_000_001)


def fresh_code() -> str:
    """A transaction code no other test of the session uses."""
    return f"{next(_codes):08d}"


def start(party: str, folder: Path, **options: object) -> PartnerSimProcess:
    """Start a simulator process of a party, its records and log in the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    store = folder if party in ("billing", "e911", "warehouse") else None
    return start_partner_sim(
        party,
        store=store,
        token=TOKEN,
        log_path=folder / f"{party}.log",
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def sims(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PartnerSimProcess]]:
    """One simulator process per party for the whole session."""
    root = tmp_path_factory.mktemp("partner-sims")
    started: dict[str, PartnerSimProcess] = {}
    try:
        for party in ("bureau", "pvs", "billing", "e911", "warehouse"):
            started[party] = start(party, root / party)
        yield started
    finally:
        for sim in started.values():
            sim.stop()


@pytest.fixture(params=KINDS)
def bureau(request: pytest.FixtureRequest, sims: dict[str, PartnerSimProcess]) -> HttpBureau:
    if request.param == "process":
        return HttpBureau(bureau_client(sims["bureau"].url, DEADLINE, token=TOKEN))
    return SimulatedBureau(deadline=DEADLINE)


@pytest.fixture(params=KINDS)
def pvs(request: pytest.FixtureRequest, sims: dict[str, PartnerSimProcess]) -> HttpPVS:
    if request.param == "process":
        return HttpPVS(pvs_client(sims["pvs"].url, DEADLINE, token=TOKEN))
    return SimulatedPVS(deadline=DEADLINE)


@pytest.fixture(params=KINDS)
def billing(
    request: pytest.FixtureRequest, sims: dict[str, PartnerSimProcess], tmp_path: Path
) -> HttpBilling:
    if request.param == "process":
        return HttpBilling(billing_client(sims["billing"].url, DEADLINE, token=TOKEN))
    return SimulatedBilling(tmp_path / "billing", deadline=DEADLINE)


@pytest.fixture(params=KINDS)
def e911(
    request: pytest.FixtureRequest, sims: dict[str, PartnerSimProcess], tmp_path: Path
) -> HttpE911:
    if request.param == "process":
        return HttpE911(e911_client(sims["e911"].url, DEADLINE, token=TOKEN))
    return SimulatedE911(tmp_path / "e911", deadline=DEADLINE)
