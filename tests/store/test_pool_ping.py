"""The pool pings a connection only after it sat idle, and so survives a database restart."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, exc, text

from activation.store import db as store_db
from activation.store.db import make_engine
from tests.pg import POSTGRES_URL, needs_postgres, private_database

pytestmark = needs_postgres


def _kill_pooled_connection(engine) -> int:  # type: ignore[no-untyped-def]
    """Terminate the server side of the pool's one idle connection, as a restart would."""
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
    return int(pid)


def test_an_idle_connection_found_dead_is_replaced_before_use(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store_db, "IDLE_BEFORE_PING", 0.0)  # every checkout counts as idle
    with private_database() as url:
        engine = make_engine(url)
        try:
            dead = _kill_pooled_connection(engine)
            with engine.connect() as conn:  # no error: the ping found it dead
                assert conn.scalar(text("SELECT pg_backend_pid()")) != dead
        finally:
            engine.dispose()


def test_a_busy_connection_is_not_pinged(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store_db, "IDLE_BEFORE_PING", 3600.0)  # nothing is idle that long
    with private_database() as url:
        engine = make_engine(url)
        try:
            _kill_pooled_connection(engine)
            # Not pinged, the dead connection is used: that request fails, and the pool,
            # invalidated by the error, serves the next one on a new connection.
            with pytest.raises(exc.OperationalError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT 1")) == 1
        finally:
            engine.dispose()
