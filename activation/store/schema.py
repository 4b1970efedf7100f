"""Schema changes through Alembic: create or upgrade the database to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, make_url
from sqlalchemy.exc import SQLAlchemyError

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


class DatabaseMissing(Exception):
    """No CAS database where the settings point: never created, or not reachable."""


def require(url: str) -> None:
    """Raise DatabaseMissing unless `url` names a database `cas init-db` has created.

    Opening a SQLite URL creates an empty file: a command run in the wrong folder would leave
    one behind and then fail on a missing table. So the file is looked for first.
    """
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            raise DatabaseMissing(f"no CAS database at {path or shown}")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            created = inspect(connection).has_table("alembic_version")
    except SQLAlchemyError as exc:
        raise DatabaseMissing(
            f"the database {shown} cannot be opened ({type(exc).__name__})"
        ) from exc
    finally:
        engine.dispose()
    if not created:
        raise DatabaseMissing(f"the database {shown} has no CAS tables")
