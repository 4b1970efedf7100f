"""Fixtures shared by the whole suite: a demo database, the app, a worker and a softphone."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, event
from sqlalchemy.engine import Engine

from activation.services import Services
from activation.settings import Settings
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap

TEST_SECRET = "test-master-secret"
POSTGRES_URL = os.environ.get("CAS_TEST_POSTGRES_URL", "")

# The suite runs on the partner simulators, in its processes (cas worker, gunicorn) too; a
# test that wants a party over the network names its URL itself.
os.environ["CAS_PARTNERS"] = "simulated"
for _party in ("BUREAU", "PVS", "BILLING", "E911", "WAREHOUSE"):
    for _setting in ("URL", "TOKEN", "USER", "PASSWORD"):
        os.environ.pop(f"CAS_{_party}_{_setting}", None)


@event.listens_for(Engine, "before_cursor_execute")
def _only_what_postgresql_keeps(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
    """Refuse on SQLite a value written that PostgreSQL would refuse: a string longer than
    its column, a whole number beyond a 4-byte INTEGER.

    SQLite keeps a string of any length in a VARCHAR(80) and any 8-byte number in an
    INTEGER: without this, a party's words or a number keyed too long for their column pass
    every SQLite test and fail a call on PostgreSQL. Only values written (INSERT and UPDATE
    SET) are checked; a WHERE may compare with any value.
    """
    compiled = getattr(context, "compiled", None)
    if conn.dialect.name != "sqlite" or compiled is None:
        return
    for values in context.compiled_parameters:
        for name, value in values.items():
            bind = compiled.binds.get(name)
            if bind is not None and bind._is_crud:
                problem = _refused_by_postgresql(bind.type, value)
                if problem:
                    raise AssertionError(f"{name}: {problem}: {value!r}")


def _refused_by_postgresql(column_type: object, value: object) -> str | None:
    length = getattr(column_type, "length", None)
    if isinstance(value, str) and length and len(value) > length:
        return f"{len(value)} characters (at most {length})"
    four_bytes = isinstance(column_type, Integer) and not isinstance(column_type, BigInteger)
    if four_bytes and isinstance(value, int) and not -(2**31) <= value < 2**31:
        return "beyond a 4-byte INTEGER"
    return None


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the demo database once; each test gets its own copy."""
    directory = tmp_path_factory.mktemp("template")
    init_database(Settings(data_dir=directory, secret_key=TEST_SECRET), demo=True)
    return directory / "cas.sqlite3"


@pytest.fixture
def settings(tmp_path: Path, demo_template: Path) -> Settings:
    """Settings on a private copy of the demo database, with short holds."""
    shutil.copy(demo_template, tmp_path / "cas.sqlite3")
    return Settings(data_dir=tmp_path, secret_key=TEST_SECRET, hold_pause=1, switch_deadline=20)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """The services of CAS on the test database, with the demo simulators."""
    built = bootstrap(settings)
    yield built
    built.db.dispose()


@pytest.fixture
def worker(services: Services) -> Iterator[threading.Event]:
    """A worker thread running activities while the test calls; set the event to stop it."""
    from activation.jobs.worker import Worker

    stop = threading.Event()
    thread = threading.Thread(target=Worker(services, "test-worker").run, args=(stop, 0.02))
    thread.start()
    yield stop
    stop.set()
    thread.join(timeout=30)
