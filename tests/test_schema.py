"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from activation.lifecycle import states
from activation.lifecycle.escalations import escalate
from activation.settings import Settings
from activation.store import schema
from activation.store.db import Base, make_engine
from activation.store.setup import init_database

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


def _reasons(url: str) -> list[tuple[str, str | None]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.reason, t.escalation_reason FROM escalations e "
                "JOIN transactions t ON t.id = e.transaction_id ORDER BY e.id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_a_demo_database_keeps_its_escalations_across_the_reason_columns_migration(tmp_path):
    """0102 rebuilds transactions and escalations on SQLite: their rows come through whole,
    and going back cuts a long reason to the old length rather than failing."""
    settings = Settings(data_dir=tmp_path, secret_key="k")
    init_database(settings, demo=True)
    url = settings.db_url
    long_reason = "PVS did not answer: " + "no route to the positive validation system; " * 3
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        tx = states.begin(session, "55501234", 1, "test")
        escalate(session, long_reason, "esn", tx=tx, kind="handset")
    engine.dispose()
    config = schema.alembic_config(url)
    command.downgrade(config, "0101")
    assert _reasons(url) == [(long_reason[:80], long_reason[:80])]
    command.upgrade(config, "head")
    assert _reasons(url) == [(long_reason[:80], long_reason[:80])]
    assert _differences(url) == []
