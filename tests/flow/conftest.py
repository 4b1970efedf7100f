"""Fixtures of the call-flow tests: the real app behind the softphone, switches as processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from activation.parties.switching import definition
from activation.services import Services
from activation.store.models import Switch
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone

AGENT_PHONE = "+15005550006"
CAS_NUMBER = "+15005550000"


@pytest.fixture
def app(services: Services):  # type: ignore[no-untyped-def]
    """The Flask app of CAS on the test services."""
    return create_app({"TESTING": True}, services=services)


@pytest.fixture
def phone(app) -> Softphone:  # type: ignore[no-untyped-def]
    """A softphone calling the app in-process, pauses shortened."""
    return Softphone(FlaskTransport(app), "/voice", pause_scale=0.05)


@pytest.fixture
def switches(services: Services, tmp_path) -> Iterator[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Start a simulator process for each demo switch and point its row at it."""
    from switch_adapters.simulator.process import start_simulator

    started: dict[str, object] = {}
    try:
        with services.db.transaction() as session:
            for switch in session.scalars(select(Switch).where(Switch.dialect != "osmo-hlr")):
                sim = start_simulator(
                    switch.dialect,
                    tmp_path / f"switch-{switch.name}.sqlite3",
                    name=switch.logon_name,
                    secret=definition(switch, services.vault).logon_secret,
                )
                started[switch.name] = sim
                switch.primary_url = sim.url
        yield started
    finally:
        for sim in started.values():
            sim.stop()  # type: ignore[attr-defined]


def log_on(phone: Softphone, agent: str = "1001", pin: str = "2468"):  # type: ignore[no-untyped-def]
    """Dial in and log on; return the call at the menu."""
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    assert "agent I D" in call.last_prompt
    call.press(agent + "#")
    assert "PIN" in call.last_prompt
    call.press(pin + "#")
    return call
