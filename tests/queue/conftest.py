"""Helpers of the queue tests: active transactions without a call, CAS served over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from activation.lifecycle import numbers
from activation.parties.ports import BillingRecord
from activation.parties.simulators import SimulatedBilling
from activation.parties.switching import SwitchGateway
from activation.services import Services
from activation.settings import Settings
from activation.store.models import Agent, Handset, Transaction
from activation.store.setup import init_database
from ivr import create_app
from ivr.bootstrap import bootstrap
from ivr.softphone import HttpTransport, Softphone
from ivr.telephony import TwilioTelephony
from tests.conftest import TEST_SECRET
from tests.flow.conftest import switches  # noqa: F401  (switch simulators, as in flow tests)
from tests.pg import private_database

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "queue-test-auth-token"
CALLER_ID = "+15005550000"


def billing_record(code: str = "70000001") -> dict:  # type: ignore[type-arg]
    """A billing record's payload, as an activity carries it."""
    return BillingRecord(code, "7135550001", "13803186457", "10", "Jane", "Houston", 0, "").__dict__


def active_transaction(
    session: Session,
    code: str,
    mid: str,
    *,
    esn: str = "13803186457",
    plan: str = "20",
    agent: str = "1001",
    switch: str = "HOU1",
) -> Transaction:
    """Insert a transaction as the call flow and worker leave it once its MID is active."""
    tx = Transaction(
        code=code,
        agent_id=session.scalar(select(Agent.id).where(Agent.agent_code == agent)),
        status="active",
        step="mid",
        esn=esn,
        customer_kind="individual",
        ssn_last4="6789",
        bureau_name="Jane Q Public",
        bureau_address="12 Main Street, Houston, Texas 77002",
        credit_score=720,
        credit_decision="approve",
        deposit_cents=0,
        deposit_method="",
        rate_plan_code=plan,
        npa_nxx=mid[:6],
        mid=mid,
        switch_name=switch,
        callback_requested=False,
        completed_at=datetime(2026, 5, 4, 15, 30, tzinfo=UTC),
    )
    session.add(tx)
    session.flush()
    numbers.set_number(session, mid, "active", tx.id)
    handset = session.get(Handset, esn) or Handset(esn=esn)
    handset.status = "active"
    session.add(handset)
    return tx


class LedgerBilling(SimulatedBilling):
    """The billing simulator, also keeping every record it accepted, in order."""

    def __init__(self, directory) -> None:  # type: ignore[no-untyped-def]
        super().__init__(directory)
        self.accepted: list[str] = []
        self._lock = threading.Lock()

    def submit(self, record) -> None:  # type: ignore[no-untyped-def]
        super().submit(record)
        with self._lock:
            self.accepted.append(record.transaction_code)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        with self._lock:
            self.now += timedelta(seconds=seconds)


@pytest.fixture
def serve():  # type: ignore[no-untyped-def]
    """Serve a WSGI app over HTTP on a free port of 127.0.0.1; return its base URL."""
    servers = []

    def start(app) -> str:  # type: ignore[no-untyped-def]
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def run_worker(services):  # type: ignore[no-untyped-def]
    """Start a worker thread on the services (after the test has set them up)."""
    from activation.jobs.worker import Worker

    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start(name: str = "test-worker") -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=Worker(services, name).run, args=(stop, 0.02))
        thread.start()
        stops.append((stop, thread))
        return stop

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(timeout=30)


def wait_for(predicate, seconds: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll until the predicate holds."""
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def fake_twilio() -> Iterator:  # type: ignore[type-arg]
    """The fake of Twilio's REST API, served on a free port."""
    from ivr.fake_twilio import FakeTwilio

    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def cas(services, switches, fake_twilio, serve):  # type: ignore[no-untyped-def]  # noqa: F811
    """CAS served over HTTP with webhook signatures on, call-backs through the fake Twilio."""
    url = serve(create_app({"TESTING": True}, services=services))
    services.settings = replace(
        services.settings,
        switch_deadline=2,
        public_url=url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        caller_id=CALLER_ID,
    )
    services.switches = SwitchGateway(2)
    services.telephony = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, fake_twilio.url)
    return url


def phone_at(url: str) -> Softphone:
    """A softphone reaching CAS over HTTP and signing as Twilio does."""
    return Softphone(
        HttpTransport(url),
        "/voice",
        auth_token=AUTH_TOKEN,
        public_url=url,
        pause_scale=0.05,
        max_redirects=400,
    )


@pytest.fixture
def pg_services(settings: Settings) -> Iterator[Services]:
    """CAS's services on a private PostgreSQL database with the demo data."""
    with private_database() as url:
        pg = replace(settings, database_url=url, secret_key=TEST_SECRET)
        init_database(pg, demo=True)
        services = bootstrap(pg)
        try:
            yield services
        finally:
            services.db.dispose()
