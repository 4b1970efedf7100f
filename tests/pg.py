"""A private PostgreSQL database per test run, on the server CAS_TEST_POSTGRES_URL names."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("CAS_TEST_POSTGRES_URL", "")

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="CAS_TEST_POSTGRES_URL not set (no PostgreSQL server to test on)"
)


def engines() -> list[Any]:
    """The engines a test runs on, as a fixture's params: SQLite, and PostgreSQL when set."""
    postgres = pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="CAS_TEST_POSTGRES_URL not set"),
        ],
    )
    return ["sqlite", postgres]


@contextmanager
def private_database() -> Iterator[str]:
    """Create an empty database on the server, yield its URL, drop it afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"cas_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def statements_sent(engine: Any, *starts: str) -> list[str]:
    """The statements an engine sends from now on that start with one of `starts`."""
    from sqlalchemy import event

    sent: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith(starts):
            sent.append(statement)

    return sent
