"""Create or upgrade a database and load data/ into it: what `cas init-db` does."""

from __future__ import annotations

from sqlalchemy import select

from activation.secrets import Vault, load_master_secret
from activation.settings import Settings
from activation.store import schema, seed
from activation.store.db import Database
from activation.store.models import Agent


def init_database(settings: Settings, demo: bool) -> None:
    """Create or upgrade the schema and load reference (and demo) data once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    vault = Vault(load_master_secret(settings.secret_key, settings.data_dir))
    schema.upgrade(settings.db_url, vault)
    db = Database(settings.db_url)
    try:
        with db.transaction() as session:
            seed.load_reference(session)
            if demo and session.scalar(select(Agent.id).limit(1)) is None:
                seed.load_demo(session, vault)
    finally:
        db.dispose()
