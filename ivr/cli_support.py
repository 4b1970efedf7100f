"""What the `cas` commands share: finding the database a command is meant to work on."""

from __future__ import annotations

import click

from activation import settings as defaults
from activation.settings import Settings
from activation.store.schema import DatabaseMissing, require

from .demo_folder import lend_partners


def settings_for(data_dir: str | None) -> Settings:
    """A command's settings: the environment's, in a demo's folder with its outside parties."""
    settings = defaults.settings_for(data_dir)
    lend_partners(settings.data_dir)
    return defaults.settings_for(data_dir)


def existing_settings(data_dir: str | None) -> Settings:
    """Settings whose database exists, or a clear error saying where CAS looked.

    A command never creates an empty database by looking in the wrong place.
    """
    return require_database(settings_for(data_dir))


def require_database(settings: Settings) -> Settings:
    """Return the settings when their database exists; else refuse saying where CAS looked."""
    try:
        require(settings.db_url)
    except DatabaseMissing as missing:
        where = (
            "CAS_DATABASE_URL"
            if settings.database_url
            else f"data dir {settings.data_dir} (--data-dir or CAS_DATA_DIR; default var, "
            "in the current folder)"
        )
        raise click.ClickException(
            f"{missing}, from the {where}. Create it with `cas init-db` (or start `cas demo`) "
            "in this folder, or point this command at the folder that holds it."
        ) from None
    return settings
