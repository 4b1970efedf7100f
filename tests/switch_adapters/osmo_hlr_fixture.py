"""A real osmo-hlr for tests, in tmp_path on a loopback address of its own.

Tests that need it skip, saying why, when the osmo-hlr program is not installed. What the HLR
holds is read back from its SQLite file, not through the adapter under test.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from switch_adapters.osmo_hlr_daemon import (
    CTRL_PORT,
    INSTALL_HINT,
    OsmoHlrDaemon,
    start_osmo_hlr,
)
from switch_adapters.port import SwitchDefinition

SKIP_REASON = f"osmo-hlr is not installed; {INSTALL_HINT}"


def running_osmo_hlr(directory: Path) -> Iterator[OsmoHlrDaemon]:
    """Yield a started osmo-hlr keeping its files in directory; stop it afterwards."""
    daemon = start_osmo_hlr(directory)
    if daemon is None:
        pytest.skip(SKIP_REASON)
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def osmo_hlr(tmp_path: Path) -> Iterator[OsmoHlrDaemon]:
    """A running osmo-hlr with an empty database."""
    yield from running_osmo_hlr(tmp_path / "osmo-hlr")


def hou4(daemon: OsmoHlrDaemon, **fields: object) -> SwitchDefinition:
    """The demo's HOU4 switch row, pointed at this daemon."""
    row: dict = {
        "name": "HOU4",
        "dialect": "osmo-hlr",
        "code": "310-00",
        "primary_url": daemon.ctrl_url,
        "npa_nxx": ("346555",),
    }
    row.update(fields)
    return SwitchDefinition(**row)


def held(daemon: OsmoHlrDaemon) -> list[tuple[str, str | None, str | None]]:
    """Return every (IMSI, MSISDN, IMEI) row of the HLR's database file, by IMSI."""
    with sqlite3.connect(daemon.database) as db:
        return db.execute("SELECT imsi, msisdn, imei FROM subscriber ORDER BY imsi").fetchall()


def access(daemon: OsmoHlrDaemon) -> list[tuple[str, int, int]]:
    """Return every numbered (MSISDN, nam_cs, nam_ps) row of the HLR's database file, by MSISDN."""
    with sqlite3.connect(daemon.database) as db:
        return db.execute(
            "SELECT msisdn, nam_cs, nam_ps FROM subscriber WHERE msisdn IS NOT NULL ORDER BY msisdn"
        ).fetchall()


def ctrl_set(daemon: OsmoHlrDaemon, variable: str, value: str) -> str:
    """Send one CTRL SET straight to the daemon and return its answer's text."""
    text = f"SET 7 {variable} {value}".encode("ascii")
    with socket.create_connection((daemon.host, CTRL_PORT), timeout=5) as ctrl:
        ctrl.sendall((len(text) + 1).to_bytes(2, "big") + b"\xee\x00" + text)
        answer = b""
        while len(answer) < 3 or len(answer) < 3 + int.from_bytes(answer[:2], "big"):
            answer += ctrl.recv(4096)
    return answer[4:].decode("ascii")
