"""CAS on SQLite and on PostgreSQL, with a worker and HOU1's switch simulator, for race tests."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from activation.call.customer import CREDIT_PATIENCE_SECONDS
from activation.jobs.worker import Worker
from activation.parties.switching import definition
from activation.service_layer.staff import add_api_key
from activation.services import Services
from activation.settings import Settings
from activation.store.models import Activity, Switch, TelephoneNumber, Transaction
from activation.store.setup import init_database
from ivr import create_app
from ivr.bootstrap import bootstrap
from ivr.console import ensure_demo_users
from ivr.softphone import FlaskTransport, Softphone
from switch_adapters.simulator.process import SimulatorProcess, start_simulator

from ..conftest import TEST_SECRET
from ..console.conftest import csrf_of, log_in
from ..pg import engines, private_database

ESN = "13803186457"
AGENT_PHONE = "+15005550006"
CAS_NUMBER = "+15005550000"
SPOKEN_MID = re.compile(r"number is ([0-9 ,]+)\.")
PAUSE_SCALE = 0.02  # a 2 s hold pause is waited 40 ms


@dataclass
class Cas:
    """CAS running on one engine: services, the app, HOU1's simulator, a worker thread."""

    services: Services
    app: Flask
    switch: SimulatorProcess
    api_key: str
    csr_password: str

    def phone(self) -> Softphone:
        # The phone holds as long as CAS would keep the caller (its credit patience, its switch
        # deadline) before giving up on a redirect loop: a worker slowed for a few seconds on
        # a busy machine is a slow answer, not a loop, and a stalled one still ends the hold.
        settings = self.services.settings
        patience = max(CREDIT_PATIENCE_SECONDS, settings.switch_deadline)
        polls = math.ceil(patience / (settings.hold_pause * PAUSE_SCALE))
        return Softphone(
            FlaskTransport(self.app), "/voice", pause_scale=PAUSE_SCALE, max_redirects=polls + 10
        )


@pytest.fixture(params=engines())
def cas(request: pytest.FixtureRequest, settings: Settings, tmp_path) -> Iterator[Cas]:  # type: ignore[no-untyped-def]
    """CAS on the engine of the parameter, its worker running."""
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(private_database())
            settings = replace(settings, database_url=url, secret_key=TEST_SECRET)
            init_database(settings, demo=True)
        services = bootstrap(settings)
        stack.callback(services.db.dispose)
        with services.db.transaction() as session:
            hou1 = session.scalar(select(Switch).where(Switch.name == "HOU1"))
            sim = start_simulator(
                "tl1",
                tmp_path / "switch-HOU1.sqlite3",
                name=hou1.logon_name,
                secret=definition(hou1, services.vault).logon_secret,
            )
            stack.callback(sim.stop)
            hou1.primary_url = sim.url
            key = add_api_key(session, "shop")
        users = {role: password for _name, role, password in ensure_demo_users(services)}
        stop = threading.Event()
        thread = threading.Thread(target=Worker(services, "race-worker").run, args=(stop, 0.02))
        thread.start()
        stack.callback(thread.join, 30)
        stack.callback(stop.set)
        app = create_app({"TESTING": True}, services=services)
        yield Cas(services, app, sim, key, users["csr"])


def spoken_mid(text: str) -> str | None:
    """The MID a caller heard in a sentence, as digits."""
    found = SPOKEN_MID.search(text)
    return re.sub(r"[^0-9]", "", found.group(1)) if found else None


def to_npa_confirm(phone: Softphone) -> tuple[Any, str]:
    """Take a new call to the NPA-NXX read-back of a new transaction; return it and the code."""
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    call.press("2468#")
    heard = call.press("#")
    code = heard.split("transaction code is ")[1].split(".")[0].replace(" ", "")
    call.press("2")
    call.press(ESN + "#")
    call.press("1")  # the handset read back is right
    call.press("1")
    call.press("123456789#")
    call.press("1")  # the SSN read back is right
    assert "Jane Q Public" in call.last_prompt
    call.press("1")  # so are the name and address
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    assert "You entered 7 1 3, 5 5 5." in call.last_prompt
    return call, code


def resumed_at_npa_confirm(phone: Softphone, code: str) -> Any:
    """A second call of the same agent that keys the code at the menu and resumes it."""
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    call.press("2468#")
    heard = call.press(code)
    assert "Resuming" in heard and "You entered 7 1 3, 5 5 5." in call.last_prompt
    return call


class Api:
    """A partner driving the same transaction through the step-by-step API."""

    def __init__(self, cas: Cas) -> None:
        self.client = cas.app.test_client()
        self.headers = {"Authorization": f"Bearer {cas.api_key}"}

    def resume(self, code: str) -> dict[str, Any]:
        reply = self.client.post(
            "/api/transactions",
            json={"agent": "1001", "pin": "2468", "code": code},
            headers=self.headers,
        )
        assert reply.status_code == 201, reply.get_json()
        body = reply.get_json()
        assert body["step"] == "npa_confirm", body
        return body

    def confirm(self, code: str) -> dict[str, Any]:
        reply = self.client.post(
            f"/api/transactions/{code}/answers", json={"value": "1"}, headers=self.headers
        )
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()

    def mid(self, code: str) -> str | None:
        reply = self.client.get(f"/api/transactions/{code}", headers=self.headers)
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()["mid"]


class Console:
    """A CSR sending the same transaction to the switch from the console."""

    def __init__(self, cas: Cas) -> None:
        self.client = cas.app.test_client()
        log_in(self.client, "csr", cas.csr_password)
        self.token = csrf_of(self.client.get("/console/escalations").get_data(as_text=True))

    def send(self, code: str) -> str:
        reply = self.client.post(
            f"/console/transactions/{code}/send",
            data={"npa_nxx": "713555", "csrf_token": self.token},
            follow_redirects=True,
        )
        assert reply.status_code == 200
        return reply.get_data(as_text=True)

    def page(self, code: str) -> str:
        return self.client.get(f"/console/transactions/{code}").get_data(as_text=True)


def wait_until_settled(cas: Cas, code: str, seconds: float = 30.0) -> Transaction:
    """Wait until the transaction is active and no work of it is left in the queue."""
    deadline = time.monotonic() + seconds
    while True:
        with cas.services.db.read() as session:
            tx = session.scalar(select(Transaction).where(Transaction.code == code))
            busy = session.scalar(
                select(Activity.id).where(
                    Activity.transaction_id == tx.id,
                    Activity.state.in_(("pending", "running")),
                )
            )
            if tx.status == "active" and busy is None:
                session.expunge(tx)
                return tx
        assert time.monotonic() < deadline, f"transaction {code} is {tx.status}, work left"
        time.sleep(0.05)


def assert_one_number(cas: Cas, code: str) -> str:
    """The transaction holds one MID: in CAS, on the switch and in billing; return it."""
    tx = wait_until_settled(cas, code)
    with cas.services.db.read() as session:
        held = session.execute(
            select(TelephoneNumber.mid, TelephoneNumber.status).where(
                TelephoneNumber.transaction_id == tx.id
            )
        ).all()
        reserved = session.scalars(
            select(TelephoneNumber.mid).where(TelephoneNumber.status == "reserved")
        ).all()
    assert held == [(tx.mid, "active")], f"numbers of {code}: {held}"
    assert reserved == [], f"numbers left reserved: {reserved}"
    on_switch = [(s.mid, s.esn) for s in cas.switch.subscribers()]
    assert on_switch == [(tx.mid, ESN)], f"switch holds {on_switch}"
    record = cas.services.billing.inquire(code)
    assert record is not None and record.mid == tx.mid
    return tx.mid or ""


def together(*actions: Any) -> list[Any]:
    """Run the actions at the same moment in threads; return their results in order."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(i: int, action: Any) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results
