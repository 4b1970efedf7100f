"""`cas user add NAME --role ROLE` and `cas api-key add PARTNER`: credentials, shown once."""

from __future__ import annotations

import click

from activation.service_layer.staff import (
    ROLES,
    add_api_key,
    add_user,
    partner_name,
    revoke_api_key,
)
from activation.store.db import Database
from ivr.cli_support import existing_settings


@click.group("user")
def user() -> None:
    """Manage the people who log in to the CSR console."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def user_add(name: str, role: str, data_dir: str | None) -> None:
    """Add a console user (or reset one) and print the new password once."""
    db = Database(existing_settings(data_dir).db_url)
    try:
        with db.transaction() as session:
            password = add_user(session, name, role)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"user {name} ({role}) password: {password}")


@click.group("api-key")
def api_key() -> None:
    """Manage the partners' keys to the activation API."""


@api_key.command("add")
@click.argument("partner")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def api_key_add(partner: str, data_dir: str | None) -> None:
    """Issue an API key to a partner and print it once (only its hash is kept)."""
    db = Database(existing_settings(data_dir).db_url)
    try:
        with db.transaction() as session:
            key = add_api_key(session, partner)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"API key for {partner_name(partner)}: {key}")
    click.echo("Send it as the header  Authorization: Bearer <key>")


@api_key.command("revoke")
@click.argument("prefix")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def api_key_revoke(prefix: str, data_dir: str | None) -> None:
    """Revoke a partner's API key by its prefix (the part after cas_); it stops working at once."""
    db = Database(existing_settings(data_dir).db_url)
    try:
        with db.transaction() as session:
            row = revoke_api_key(session, prefix)
            partner = row.partner.name
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"API key {prefix} of {partner} revoked")


COMMANDS = (user, api_key)
