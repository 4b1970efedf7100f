"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from activation.store import schema
from activation.store.db import Base

from .pg import needs_postgres, private_database


def _differences(url: str) -> list:
    schema.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    return diff


def test_migrations_match_the_models_on_sqlite(tmp_path):
    assert _differences(f"sqlite:///{tmp_path / 'schema.sqlite3'}") == []


@needs_postgres
def test_migrations_match_the_models_on_postgres():
    with private_database() as url:
        assert _differences(url) == []
