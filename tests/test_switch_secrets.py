"""Switch log-on secrets are kept encrypted: in a new database and in one upgraded from clear."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from activation.parties.switching import definition
from activation.secrets import Vault
from activation.settings import Settings
from activation.store import schema
from activation.store.db import Database
from activation.store.models import Switch
from activation.store.setup import init_database

DEMO_SECRETS = ("hou1-secret", "hou2-secret", "hou3-secret")


def database_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.glob("cas.sqlite3*"))


def test_a_new_database_holds_no_switch_secret_in_clear_and_the_adapters_get_them(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="switch-secret-test")
    init_database(settings, demo=True)
    stored = database_bytes(tmp_path)
    assert not [secret for secret in DEMO_SECRETS if secret.encode() in stored]
    db = Database(settings.db_url)
    vault = Vault("switch-secret-test")
    with db.read() as session:
        hou1 = session.scalars(select(Switch).where(Switch.name == "HOU1")).one()
        assert definition(hou1, vault).logon_secret == "hou1-secret"
        hou4 = session.scalars(select(Switch).where(Switch.name == "HOU4")).one()
        assert definition(hou4, vault).logon_secret == ""
    db.dispose()
    # Another master secret cannot read them.
    with db.read() as session, pytest.raises(ValueError, match="cannot be decrypted"):
        definition(session.scalars(select(Switch)).first(), Vault("another"))
    db.dispose()


def _database_at_0005_with_a_clear_secret(path: Path) -> str:
    url = f"sqlite:///{path}"
    command.upgrade(schema.alembic_config(url), "0005")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO switches (name, dialect, code, primary_url, backup_url, logon_name,"
            " logon_secret, commands, active) VALUES"
            " ('OLD1', 'tl1', 'OLD1', 'loop://', '', 'cas', 'old-secret', '{}', 1),"
            " ('OLD2', 'tl1', 'OLD2', 'loop://', '', '', '', '{}', 1)"
        )
    return url


def test_an_upgrade_encrypts_the_secrets_held_in_clear_and_a_downgrade_restores_them(tmp_path):
    url = _database_at_0005_with_a_clear_secret(tmp_path / "old.sqlite3")
    vault = Vault("upgrade-test")
    schema.upgrade(url, vault)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT name, logon_secret_encrypted FROM switches")).all())
        columns = [c[1] for c in conn.execute(text("PRAGMA table_info(switches)"))]
    assert "logon_secret" not in columns
    assert vault.decrypt(rows["OLD1"]) == "old-secret" and rows["OLD2"] == ""

    config = schema.alembic_config(url)
    config.attributes["vault"] = vault
    command.downgrade(config, "0005")
    with engine.connect() as conn:
        back = dict(conn.execute(text("SELECT name, logon_secret FROM switches")).all())
    engine.dispose()
    assert back == {"OLD1": "old-secret", "OLD2": ""}


def test_an_upgrade_that_would_need_the_master_secret_refuses_without_it(tmp_path):
    url = _database_at_0005_with_a_clear_secret(tmp_path / "old.sqlite3")
    with pytest.raises(RuntimeError, match="upgrade with `cas init-db`"):
        schema.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:  # nothing half-done: the clear column is still there
        held = conn.execute(text("SELECT logon_secret FROM switches WHERE name = 'OLD1'"))
        assert held.scalar_one() == "old-secret"
    engine.dispose()
    schema.upgrade(url, Vault("upgrade-test"))  # and with it, the same upgrade goes through
