"""Every order type, end to end through the partner order API, on every switch dialect.

A line is activated by a whole-order activation and then swapped, re-planned, suspended,
restored and disconnected. Each order goes through the queue to the real switch of its NPA-NXX:
the TL1, MML and BER simulators (each a process of its own) and the osmo-hlr daemon where it is
installed. After each order, what the switch holds is read back through a session of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.parties.switching import definition
from activation.service_layer.staff import add_api_key
from activation.services import Services
from activation.settings import Settings
from activation.store.models import Switch, TelephoneNumber, Transaction
from ivr import create_app
from ivr.bootstrap import bootstrap
from switch_adapters.port import Subscriber
from switch_adapters.simulator.process import SimulatorProcess, start_simulator

from ..switch_adapters import osmo_hlr_fixture

# switch, its NPA-NXX, whether it keeps a line's features
SWITCHES = [("HOU1", "713555", True), ("HOU2", "281555", True), ("HOU3", "832555", True)]
SWITCHES += [("HOU4", "346555", False)]
ESN, NEW_ESN = "13803186457", "13803186458"
running_osmo_hlr = contextmanager(osmo_hlr_fixture.running_osmo_hlr)  # skips when not installed


@pytest.fixture(params=SWITCHES, ids=[name for name, _, _ in SWITCHES])
def line_on(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """CAS with the switch of the parameter running, and a partner's client of the API."""
    name, npa_nxx, keeps_features = request.param
    with ExitStack() as stack:
        services = bootstrap(settings)
        stack.callback(services.db.dispose)
        sim = None
        with services.db.transaction() as session:
            switch = session.scalar(select(Switch).where(Switch.name == name))
            if switch.dialect == "osmo-hlr":
                hlr = stack.enter_context(running_osmo_hlr(tmp_path / "osmo-hlr"))
                switch.primary_url, switch.active = hlr.ctrl_url, True
            else:
                sim = start_simulator(
                    switch.dialect,
                    tmp_path / f"switch-{name}.sqlite3",
                    name=switch.logon_name,
                    secret=definition(switch, services.vault).logon_secret,
                )
                stack.callback(sim.stop)
                switch.primary_url = sim.url
            key = add_api_key(session, "shop")
        stack.callback(services.switches.close)
        client = create_app({"TESTING": True}, services=services).test_client()
        yield Line(services, client, key, name, npa_nxx, keeps_features, sim)


class Line:
    """A partner ordering on one line, and what the line's switch holds."""

    def __init__(
        self,
        services: Services,
        client: Any,
        key: str,
        switch: str,
        npa_nxx: str,
        keeps: bool,
        sim: SimulatorProcess | None,
    ) -> None:
        self.services, self.client, self.switch, self.sim = services, client, switch, sim
        self.npa_nxx, self.keeps_features = npa_nxx, keeps
        self.headers = {"Authorization": f"Bearer {key}"}
        self.placed = 0

    def order(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place an order, let the worker carry it out, return it as the partner reads it."""
        self.placed += 1
        headers = {**self.headers, "Idempotency-Key": f"{self.switch}-{self.placed}"}
        reply = self.client.post("/api/orders", json=body, headers=headers)
        assert reply.status_code == 201, reply.get_json()
        worker = Worker(self.services, "test")
        while worker.run_once():
            pass
        return self.client.get(reply.headers["Location"], headers=self.headers).get_json()

    def held(self, mid: str) -> Subscriber | None:
        """What the switch answers of a MID, asked through a session of its own."""
        with self.services.db.read() as session:
            switch = session.scalar(select(Switch).where(Switch.name == self.switch))
            line = self.services.switches.open(definition(switch, self.services.vault))
        try:
            return line.query(mid)
        finally:
            line.close()

    def features(self, plan: str) -> str:
        return plan if self.keeps_features else ""


def test_every_order_type_reaches_the_switch_of_its_dialect(line_on: Line) -> None:
    activated = line_on.order(
        {
            "type": "activate",
            "agent": "1001",
            "pin": "2468",
            "esn": ESN,
            "customer": {"kind": "individual", "ssn": "123456789"},
            "rate_plan": "10",
            "npa_nxx": line_on.npa_nxx,
        }
    )
    assert activated["state"] == "completed", activated
    mid = activated["mid"]
    assert mid.startswith(line_on.npa_nxx)
    assert line_on.held(mid) == Subscriber(mid, ESN, line_on.features("10"), "active")

    steps: list[tuple[dict[str, Any], Subscriber | None]] = [
        ({"type": "change_esn", "esn": NEW_ESN}, Subscriber(mid, NEW_ESN, "", "active")),
        ({"type": "change_plan", "rate_plan": "20"}, Subscriber(mid, NEW_ESN, "", "active")),
        ({"type": "suspend", "reason": "stolen"}, Subscriber(mid, NEW_ESN, "", "suspended")),
        ({"type": "restore"}, Subscriber(mid, NEW_ESN, "", "active")),
        ({"type": "disconnect"}, None),
    ]
    plan = "10"
    for body, wanted in steps:
        plan = body.get("rate_plan", plan)
        done = line_on.order({**body, "mid": mid})
        assert done["state"] == "completed", done
        if wanted is not None:
            wanted = Subscriber(wanted.mid, wanted.esn, line_on.features(plan), wanted.state)
        assert line_on.held(mid) == wanted, body["type"]

    with line_on.services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.former_mid == mid))
        number = session.get(TelephoneNumber, mid)
    assert (tx.status, tx.esn, tx.rate_plan_code) == ("disconnected", NEW_ESN, "20")
    assert number.status == "aging"
    if line_on.sim is not None:  # every order's work and every read-back on one log-on
        assert line_on.sim.stats()["connections"] == 1
