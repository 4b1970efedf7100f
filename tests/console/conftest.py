"""Fixtures of the console and API tests: the real app on a real port, users, keys, a browser."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from activation.service_layer.staff import add_api_key
from activation.services import Services
from ivr import create_app
from ivr.console import ensure_demo_users

from ..flow.conftest import switches  # noqa: F401  (switch simulator processes)
from .lines import line_cas, line_live  # noqa: F401  (a line in service, served)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app(services: Services):  # type: ignore[no-untyped-def]
    """The whole Flask app of CAS on the test services."""
    return create_app({"TESTING": True}, services=services)


@pytest.fixture
def users(services: Services) -> dict[str, str]:
    """A console user per role: role -> password (the user is named after the role)."""
    return {role: password for _name, role, password in ensure_demo_users(services)}


@pytest.fixture
def api_key(services: Services) -> str:
    """An API key of the partner 'shop'."""
    with services.db.transaction() as session:
        return add_api_key(session, "shop")


@dataclass
class LiveServer:
    """The app served over HTTP on a free port of 127.0.0.1."""

    url: str


@pytest.fixture
def live(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """Serve the app in a thread, as a browser or a partner reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)


def csrf_of(html: str) -> str:
    """Pick the CSRF token out of a console page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def log_in(client: Any, name: str, password: str) -> None:
    """Log a test client in to the console."""
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login", data={"name": name, "password": password, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by playwright; skipped when either is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[Path]:
    """Where the browser tests leave their screenshots (CAS_SCREENSHOTS keeps a copy)."""
    directory = tmp_path / "screenshots"
    directory.mkdir()
    yield directory
    keep = os.environ.get("CAS_SCREENSHOTS")
    if keep:
        shutil.copytree(directory, keep, dirs_exist_ok=True)
