"""A line in service for the console's line tests: CAS on the in-memory switch, with the app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from activation.services import Services
from activation.settings import Settings
from ivr import create_app
from ivr.bootstrap import bootstrap
from ivr.console import ensure_demo_users

from ..lifecycle.fakes import CheckingBilling, FakeSwitch
from ..lifecycle.test_orders import activate


@dataclass
class LineCas:
    """CAS with one active line (Jane Q Public's), its switch and billing in memory."""

    services: Services
    switch: FakeSwitch
    billing: CheckingBilling
    app: Flask
    mid: str
    passwords: dict[str, str]  # role -> password of the console user named after it


def start_line(settings: Settings) -> LineCas:
    """Activate a line through the real claim and insertion; no worker runs (tests drain)."""
    switch, billing = FakeSwitch(), CheckingBilling()
    services = bootstrap(settings, switches=switch, billing=billing)
    billing.services = services
    mid = activate(services)
    passwords = {role: password for _name, role, password in ensure_demo_users(services)}
    app = create_app({"TESTING": True}, services=services)
    return LineCas(services, switch, billing, app, mid, passwords)


@pytest.fixture
def line_cas(settings: Settings) -> Iterator[LineCas]:
    """CAS with an active line on the in-memory switch."""
    cas = start_line(settings)
    yield cas
    cas.services.db.dispose()


@pytest.fixture
def line_live(line_cas: LineCas) -> Iterator[Any]:
    """The line's CAS served over HTTP on a free port, as the console's `live` fixture."""
    from .conftest import LiveServer  # here: the conftest imports this module

    server = make_server("127.0.0.1", 0, line_cas.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
