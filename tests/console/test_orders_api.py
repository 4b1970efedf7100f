"""The partner order API: whole orders, idempotency keys, TMF622 states and signed notices."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.lifecycle import states
from activation.service_layer.staff import add_api_key
from activation.settings import Settings
from activation.store import schema
from activation.store.models import Agent, AuditEntry, Transaction
from activation.store.orders import Order
from ivr import create_app
from ivr.bootstrap import bootstrap

from ..lifecycle.fakes import CheckingBilling, FakeSwitch

ACTIVATE = {
    "type": "activate",
    "agent": "1001",
    "pin": "2468",
    "esn": "13803186457",
    "customer": {"kind": "individual", "ssn": "123456789"},
    "rate_plan": "10",
    "npa_nxx": "713555",
}


class Partner:
    """A partner's client of the order API (Flask's test client)."""

    def __init__(self, app: Any, key: str) -> None:
        self.client = app.test_client()
        self.auth = {"Authorization": f"Bearer {key}"}

    def place(self, body: dict[str, Any], key: str) -> Any:
        return self.client.post(
            "/api/orders", json=body, headers={**self.auth, "Idempotency-Key": key}
        )

    def get(self, order_id: str) -> Any:
        return self.client.get(f"/api/orders/{order_id}", headers=self.auth)


@pytest.fixture
def cas(settings: Settings) -> Iterator[tuple[Any, Any, FakeSwitch, Partner]]:
    switch, billing = FakeSwitch(), CheckingBilling()
    services = bootstrap(settings, switches=switch, billing=billing)
    billing.services = services
    with services.db.transaction() as session:
        key = add_api_key(session, "shop")
    app = create_app({"TESTING": True}, services=services)
    yield services, app, switch, Partner(app, key)
    services.db.dispose()


def drain(services: Any) -> None:
    worker = Worker(services, "test")
    while worker.run_once():
        pass


def test_a_whole_activation_in_one_order_then_its_replays(cas):
    services, _app, switch, partner = cas
    reply = partner.place(ACTIVATE, "order-1")
    assert reply.status_code == 201, reply.get_json()
    order = reply.get_json()
    assert (order["type"], order["state"]) == ("activate", "inProgress")
    assert reply.headers["Location"] == f"/api/orders/{order['id']}"
    assert "123456789" not in json.dumps(order) and "2468" not in json.dumps(order)
    drain(services)
    done = partner.get(order["id"]).get_json()
    assert done["state"] == "completed" and done["mid"].startswith("713555")
    assert switch.held[done["mid"]] == "13803186457"
    assert [m["state"] for m in done["milestones"]][-1] == "active"
    # A partner that lost the answer sends the same again: the same order, nothing new.
    again = partner.place(ACTIVATE, "order-1")
    assert again.status_code == 200 and again.get_json()["id"] == order["id"]
    conflict = partner.place({**ACTIVATE, "rate_plan": "20"}, "order-1")
    assert conflict.status_code == 409
    assert conflict.get_json()["reason"] == "idempotency_conflict"
    with services.db.read() as session:
        assert len(session.scalars(select(Transaction)).all()) == 1


def test_an_upgrade_marks_the_transactions_partners_orders_opened(cas, settings):
    """A database from before transactions said so: the upgrade finds them by their orders."""
    services, _app, _switch, partner = cas
    assert partner.place(ACTIVATE, "order-1").status_code == 201
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        states.begin(session, "70000010", agent_id, "ivr")
    services.db.dispose()
    command.downgrade(schema.alembic_config(settings.db_url), "0100")
    schema.upgrade(settings.db_url)
    with services.db.read() as session:
        marked = session.execute(select(Transaction.code, Transaction.by_order)).all()
        order_code = session.scalar(select(Order.code))
    assert sorted(marked) == sorted([(order_code, True), ("70000010", False)])


def test_line_orders_by_api_and_one_in_flight(cas):
    services, _app, switch, partner = cas
    partner.place(ACTIVATE, "a")
    drain(services)
    with services.db.read() as session:
        mid = session.scalar(select(Transaction.mid))
    first = partner.place({"type": "change_plan", "mid": mid, "rate_plan": "20"}, "b")
    assert first.status_code == 201 and first.get_json()["state"] == "inProgress"
    second = partner.place({"type": "suspend", "mid": mid, "reason": "lost"}, "c")
    assert second.status_code == 409
    assert second.get_json() == {
        "error": f"order {first.get_json()['id']} is in flight on this line",
        "reason": "in_flight",
        "order": first.get_json()["id"],
    }
    drain(services)
    assert partner.get(first.get_json()["id"]).get_json()["state"] == "completed"
    for key, body in (
        ("d", {"type": "suspend", "mid": mid, "reason": "stolen"}),
        ("e", {"type": "restore", "mid": mid}),
        ("f", {"type": "change_esn", "mid": mid, "esn": "13803186458"}),
        ("g", {"type": "disconnect", "mid": mid}),
    ):
        placed = partner.place(body, key)
        assert placed.status_code == 201, placed.get_json()
        drain(services)
        assert partner.get(placed.get_json()["id"]).get_json()["state"] == "completed"
    assert mid not in switch.held
    gone = partner.place({"type": "restore", "mid": mid}, "h")
    assert gone.status_code == 404 and gone.get_json()["reason"] == "no_line"


def test_bad_orders_get_a_reason_and_change_nothing(cas):
    services, _app, _switch, partner = cas
    assert (
        partner.client.post("/api/orders", json=ACTIVATE, headers=partner.auth).status_code == 400
    )
    for body, status in (
        ({**ACTIVATE, "esn": "12345"}, 422),
        ({**ACTIVATE, "esn": "13800000001"}, 409),
        ({**ACTIVATE, "customer": {"kind": "x"}}, 422),
        ({**ACTIVATE, "rate_plan": "99"}, 422),
        ({**ACTIVATE, "npa_nxx": "212555"}, 422),
        ({**ACTIVATE, "pin": "1111"}, 403),
        ({"type": "teleport"}, 422),
        ({"type": "suspend", "mid": "7135559999", "reason": "lost"}, 404),
    ):
        reply = partner.place(body, f"bad-{status}-{len(json.dumps(body))}")
        assert reply.status_code == status, (body, reply.get_json())
        assert reply.get_json()["error"]
    with services.db.read() as session:
        assert session.scalars(select(Transaction)).all() == []
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1001"))
        assert agent.invalid_logons == 1  # the wrong PIN counted toward a lock


class Inbox(BaseHTTPRequestHandler):
    """A partner's notice endpoint: keeps what arrives."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Inbox.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_state_changes_reach_the_partner_signed(cas):
    services, _app, _switch, partner = cas
    server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Inbox.received = []
    secret = "a-partner-secret-of-some-length"
    try:
        url = f"http://127.0.0.1:{server.server_port}/cas"
        put = partner.client.put(
            "/api/notifications", json={"url": url, "secret": secret}, headers=partner.auth
        )
        assert put.get_json() == {"url": url}
        order = partner.place(ACTIVATE, "n").get_json()
        drain(services)
        deadline = time.monotonic() + 10
        while not any(b"completed" in body for _, body in Inbox.received):
            assert time.monotonic() < deadline, Inbox.received
            drain(services)
            time.sleep(0.05)
    finally:
        server.shutdown()
    states = []
    for headers, body in Inbox.received:
        signed = dict(part.split("=", 1) for part in headers["X-CAS-Signature"].split(","))
        stamp, mac = signed["t"], signed["v1"]
        expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        assert hmac.compare_digest(mac, expected.hexdigest())
        notice = json.loads(body)
        assert notice["order"] == order["id"]
        states.append(notice["state"])
    assert states[-1] == "completed"
    wrong = partner.client.put(
        "/api/notifications", json={"url": "ftp://x", "secret": secret}, headers=partner.auth
    )
    assert wrong.status_code == 422


def test_a_partner_with_the_longest_name_allowed_places_and_completes_an_order(cas):
    """Its actor ("partner " and the name) is kept whole wherever an actor is written."""
    services, app, _switch, _partner = cas
    name = "the carrier's own reseller network south"  # 40 characters: the most allowed
    assert len(name) == 40
    with services.db.transaction() as session:
        key = add_api_key(session, name)
    partner = Partner(app, key)
    reply = partner.place(ACTIVATE, "long-name-1")
    assert reply.status_code == 201, reply.get_json()
    drain(services)
    assert partner.get(reply.get_json()["id"]).get_json()["state"] == "completed"
    with services.db.read() as session:
        assert session.scalar(select(Order.placed_by)) == f"partner {name}"
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert f"partner {name}" in actors
