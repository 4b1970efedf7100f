"""`cas user add`, `cas api-key add|revoke`: credentials shown once, kept only as hashes."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from activation.service_layer.console_access import LogInRefused, log_in
from activation.service_layer.staff import ApiKey, ConsoleUser, find_api_key
from ivr.console import ensure_demo_users
from ivr.console.cli import COMMANDS


def _cas() -> click.Group:
    group = click.Group("cas")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_user_add_prints_a_password_that_logs_in(settings, services, monkeypatch):
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(
        _cas(),
        ["user", "add", "maria", "--role", "supervisor", "--data-dir", str(settings.data_dir)],
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    opened = log_in(services.db, "maria", password, "127.0.0.1")
    with services.db.transaction() as session:
        user = session.get(ConsoleUser, opened.user_id)
        assert user.name == "maria" and user.role == "supervisor" and user.may("csr")
        assert not user.may("admin")
        stored = session.scalar(
            select(ConsoleUser.password_hash).where(ConsoleUser.name == "maria")
        )
    assert password not in stored and stored.startswith("pbkdf2$")
    refused = CliRunner().invoke(_cas(), ["user", "add", "x", "--role", "boss"])
    assert refused.exit_code != 0 and "boss" in refused.output


def test_api_key_add_prints_a_key_that_authenticates(settings, services, monkeypatch):
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(
        _cas(), ["api-key", "add", "acme", "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    key = result.output.split("API key for acme: ")[1].split()[0]
    with services.db.transaction() as session:
        row = find_api_key(session, key)
        assert row is not None and row.partner.name == "acme"
        assert find_api_key(session, key + "x") is None
        assert key not in session.scalar(select(ApiKey.key_hash))

    prefix = key.split("_")[1]
    revoke = ["api-key", "revoke", prefix, "--data-dir", str(settings.data_dir)]
    result = CliRunner().invoke(_cas(), revoke)
    assert result.exit_code == 0 and f"API key {prefix} of acme revoked" in result.output
    with services.db.transaction() as session:
        assert find_api_key(session, key) is None
    again = CliRunner().invoke(_cas(), revoke)
    assert again.exit_code != 0 and "revoked already" in again.output


def test_demo_users_get_fresh_passwords_each_time(services):
    first = ensure_demo_users(services)
    second = ensure_demo_users(services)
    assert [(n, r) for n, r, _ in first] == [
        ("csr", "csr"),
        ("supervisor", "supervisor"),
        ("admin", "admin"),
    ]
    for (name, _role, old), (_n, _r, new) in zip(first, second, strict=True):
        assert old != new
        with pytest.raises(LogInRefused):
            log_in(services.db, name, old, "127.0.0.1")
        assert log_in(services.db, name, new, "127.0.0.1").name == name
