"""The PostgreSQL engine's cursor describes a result as psycopg does, in PEP 249 tuples."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import literal, select, text

from activation.store.db import make_engine
from activation.store.pg_cursor import DescribedCursor, Description

from ..pg import POSTGRES_URL, needs_postgres

pytestmark = [needs_postgres, pytest.mark.postgres]

QUERY = "SELECT 1 AS n, 'x'::varchar AS word, now() AS at, NULL::json AS doc, 2"


def _dsn() -> str:
    return POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


def test_names_and_type_codes_are_psycopg_s_own():
    with psycopg.connect(_dsn()) as plain, psycopg.connect(_dsn()) as described:
        theirs = plain.cursor()
        ours = DescribedCursor(described)
        theirs.execute(QUERY)
        ours.execute(QUERY)
        assert ours.description is not None and theirs.description is not None
        assert [(d[0], d[1]) for d in ours.description] == [
            (c.name, c.type_code) for c in theirs.description
        ]
        assert all(len(d) == 7 and d[2:] == (None,) * 5 for d in ours.description)
        ours.execute("CREATE TEMPORARY TABLE t (n int)")
        assert ours.description is None  # a command returns no columns


def test_the_engine_reads_rows_by_name_through_it():
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(QUERY)).one()
            assert (row.n, row.word, row.doc) == (1, "x", None)
            assert row.at.tzinfo is not None
            assert isinstance(conn.connection.dbapi_connection.cursor(), DescribedCursor)
    finally:
        engine.dispose()


def test_a_description_kept_describes_its_own_result_after_the_next_statement():
    with psycopg.connect(_dsn()) as conn:
        cur = DescribedCursor(conn)
        cur.execute(QUERY)
        first = cur.description
        cur.execute("SELECT 3 AS other")
        assert first is not None and [d[0] for d in first] == ["n", "word", "at", "doc", "?column?"]
        assert len(first) == 5 and first[-1][0] == "?column?" and first == list(first)


def test_a_statement_run_before_is_not_described_column_by_column(monkeypatch):
    """SQLAlchemy keeps the columns of a statement it compiled: from the second run on it
    asks only whether the result has a description, and the columns are not read."""
    described: list[int] = []
    build = Description._described

    def counted(self: Description) -> list:  # type: ignore[type-arg]
        if self._columns is None:  # built now, not read again
            described.append(len(self))
        return build(self)

    monkeypatch.setattr(Description, "_described", counted)
    engine = make_engine(POSTGRES_URL)
    statement = select(literal(1).label("n"), literal("x").label("word"))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))  # the dialect's own first questions, asked
            described.clear()
            for _ in range(3):
                assert conn.execute(statement).one() == (1, "x")
    finally:
        engine.dispose()
    assert described == [2]  # the first run only
