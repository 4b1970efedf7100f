"""A session without a transaction (PostgreSQL) gives its connection back as it found it."""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.orm import Session

from activation.store.db import Database
from tests.pg import needs_postgres, private_database

pytestmark = [needs_postgres, pytest.mark.postgres]


def _status(session: Session) -> TransactionStatus:
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    return TransactionStatus(dbapi.info.transaction_status)


def test_a_connection_lent_without_a_transaction_comes_back_with_one() -> None:
    """The worker claims without a transaction; the pool's one connection then serves a
    write transaction whose row locks must hold until its commit, not each statement's end."""
    with private_database() as url:
        db = Database(url)
        db.engine.pool.dispose()
        try:
            with db.autocommit() as session:
                pid = session.scalar(text("SELECT pg_backend_pid()"))
                assert _status(session) == TransactionStatus.IDLE  # nothing held open
            with db.transaction() as session:
                assert session.scalar(text("SELECT pg_backend_pid()")) == pid  # the same one
                assert _status(session) == TransactionStatus.INTRANS
        finally:
            db.dispose()
