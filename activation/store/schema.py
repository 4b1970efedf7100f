"""Schema changes through Alembic: create or upgrade the database to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from activation.secrets import Vault

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for the given database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, vault: Vault | None = None) -> None:
    """Bring the database at url to the newest schema.

    Migrations that encrypt what is already stored need the vault; `cas init-db` gives it.
    """
    cfg = alembic_config(url)
    cfg.attributes["vault"] = vault
    command.upgrade(cfg, "heads")
