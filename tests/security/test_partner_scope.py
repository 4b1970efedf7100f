"""The API scopes transactions by the key's partner record: names are normalised to one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from activation.service_layer.staff import add_api_key, find_api_key
from activation.store.staff import Partner

from ..console.conftest import csrf_of, log_in
from ..console.test_api import Partner as Client


def _key(services, name: str) -> str:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        return add_api_key(session, name)


def test_keys_of_one_partner_share_its_transactions_whatever_spaces_or_case(live, services):
    first, second, spaced = (_key(services, n) for n in ("acme", "acme", "  ACME "))
    code = Client(live.url, first).create(agent="1001", pin="2468").json()["transaction_code"]
    for key in (second, spaced):
        reply = Client(live.url, key).status(code)
        assert reply.status_code == 200 and reply.json()["transaction_code"] == code
    with services.db.read() as session:
        assert session.scalars(select(Partner.name)).all() == ["acme"]
        assert find_api_key(session, spaced).partner.name == "acme"


def test_a_partner_named_like_another_later_sees_nothing_of_the_first(live, services):
    old = _key(services, "acme")
    code = Client(live.url, old).create(agent="1001", pin="2468").json()["transaction_code"]
    with services.db.transaction() as session:  # the first acme is renamed; a new one comes
        session.execute(update(Partner).values(name="acme wireless"))
    newcomer = _key(services, "acme")
    assert Client(live.url, newcomer).status(code).status_code == 404
    assert Client(live.url, old).status(code).status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "acme\u200b", "ácme", "-acme", "a" * 41])
def test_partner_names_that_could_pass_for_another_are_refused(services, name):
    with services.db.transaction() as session, pytest.raises(ValueError):
        add_api_key(session, name)


def test_the_cli_and_the_console_issue_keys_under_the_partner_record(
    app, users, services, settings, monkeypatch
):
    from ivr.console.cli import COMMANDS

    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    api_key = next(c for c in COMMANDS if c.name == "api-key")
    result = CliRunner().invoke(api_key, ["add", " Acme ", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0 and "API key for acme: cas_" in result.output
    refused = CliRunner().invoke(api_key, ["add", "ácme", "--data-dir", str(settings.data_dir)])
    assert refused.exit_code != 0 and "partner name" in refused.output
    client = app.test_client()
    log_in(client, "admin", users["admin"])
    token = csrf_of(client.get("/console/admin/users").get_data(as_text=True))
    page = client.post("/console/admin/api-keys", data={"partner": "ACME", "csrf_token": token})
    assert "The API key of acme is" in page.get_data(as_text=True)
    with services.db.read() as session:
        assert session.scalars(select(Partner.name)).all() == ["acme"]
