"""A partner's activate order (`POST /api/orders`) for an agent with salespeople: it names the
salesperson and their PIN or is refused (403), their restrictions apply (422), a wrong PIN
counts toward their lock, and the transaction records who sold it."""

from __future__ import annotations

from sqlalchemy import select

from activation.secrets import hash_pin
from activation.store.models import AuditEntry, Transaction
from activation.store.salespeople import Salesperson
from tests.console.test_orders_api import ACTIVATE, cas, drain  # noqa: F401

KIM = {**ACTIVATE, "agent": "1004", "pin": "8642", "esn": "13803186731"}


def _person(services, code: str) -> Salesperson:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        person = session.scalar(select(Salesperson).where(Salesperson.code == code))
        assert person is not None
        return person


def test_an_agent_with_salespeople_needs_one_named_and_the_sale_is_theirs(cas):  # noqa: F811
    services, _app, _switch, partner = cas
    alone = partner.place(KIM, "sp-1")
    assert alone.status_code == 403
    assert alone.get_json() == {
        "error": "agent 1004 sells through salespeople: give salesperson and salesperson_pin",
        "reason": "logon",
    }
    half = partner.place({**KIM, "salesperson": "11"}, "sp-2")
    assert (
        half.status_code == 422 and "'salesperson_pin' is 4 to 8 digits" in half.get_json()["error"]
    )
    wrong = partner.place({**KIM, "salesperson": "11", "salesperson_pin": "9999"}, "sp-3")
    assert wrong.status_code == 403
    assert wrong.get_json()["error"] == "that salesperson ID and PIN do not match"
    unknown = partner.place({**KIM, "salesperson": "77", "salesperson_pin": "1111"}, "sp-4")
    assert unknown.status_code == 403
    assert _person(services, "11").failed_attempts == 1

    ok = partner.place({**KIM, "salesperson": "11", "salesperson_pin": "1111"}, "sp-5")
    assert ok.status_code == 201, ok.get_json()
    drain(services)
    order = partner.get(ok.get_json()["id"]).get_json()
    assert order["state"] == "completed", order
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == order["id"]))
        assert (tx.salesperson_id, tx.status) == (_person(services, "11").id, "active")
    assert _person(services, "11").failed_attempts == 0
    # An agent without salespeople orders as before; a salesperson named for it is refused.
    plain = partner.place({**ACTIVATE, "salesperson": "11", "salesperson_pin": "1111"}, "sp-6")
    assert plain.status_code == 403
    assert plain.get_json()["error"] == "that salesperson ID and PIN do not match"
    assert partner.place(ACTIVATE, "sp-7").status_code == 201


def test_a_salespersons_restrictions_refuse_the_order_with_the_reason(cas):  # noqa: F811
    services, _app, _switch, partner = cas
    alex = {**KIM, "salesperson": "12", "salesperson_pin": "2222"}  # plan 10 and 713555 only
    plan = partner.place({**alex, "rate_plan": "20"}, "sp-10")
    assert plan.status_code == 422
    assert plan.get_json() == {
        "error": "rate plan 20 is not one salesperson Alex may sell",
        "reason": "invalid",
    }
    block = partner.place({**alex, "npa_nxx": "281555"}, "sp-11")
    assert block.status_code == 422
    assert block.get_json()["error"] == "salesperson Alex may not sell numbers in NPA-NXX 281555"
    ok = partner.place(alex, "sp-12")
    assert ok.status_code == 201, ok.get_json()
    with services.db.read() as session:
        assert session.scalar(select(Transaction.salesperson_id)) == _person(services, "12").id
        assert session.scalar(select(Transaction.rate_plan_code)) == "10"


def test_wrong_pins_lock_the_salesperson_not_the_agent(cas):  # noqa: F811
    services, _app, _switch, partner = cas
    limit = services.settings.max_login_failures
    for n in range(limit):
        body = {**KIM, "salesperson": "11", "salesperson_pin": "0000"}
        assert partner.place(body, f"lock-{n}").status_code == 403
    robin = _person(services, "11")
    assert robin.locked and robin.failed_attempts == limit
    locked = partner.place({**KIM, "salesperson": "11", "salesperson_pin": "1111"}, "lock-ok")
    assert locked.status_code == 403
    assert locked.get_json()["error"] == "salesperson 11 of agent 1004 is locked"
    other = partner.place({**KIM, "salesperson": "12", "salesperson_pin": "2222"}, "lock-12")
    assert other.status_code == 201, other.get_json()  # the agent is not locked
    with services.db.read() as session:
        assert (
            session.scalar(
                select(AuditEntry.actor).where(
                    AuditEntry.entity == "salesperson", AuditEntry.new_status == "locked"
                )
            )
            == "partner shop"
        )


def test_a_pin_changed_between_the_check_and_the_lock_is_checked_again(cas, monkeypatch):  # noqa: F811
    from activation.service_layer import order_salespeople

    services, _app, _switch, partner = cas
    checked = order_salespeople.given

    def change_after_check(services_, agent_code, body):  # type: ignore[no-untyped-def]
        named = checked(services_, agent_code, body)
        with services.db.transaction() as session:
            robin = session.scalar(select(Salesperson).where(Salesperson.code == "11"))
            robin.pin_hash = hash_pin("5555")
        return named

    monkeypatch.setattr(order_salespeople, "given", change_after_check)
    stale = partner.place({**KIM, "salesperson": "11", "salesperson_pin": "1111"}, "race-1")
    assert stale.status_code == 403  # the old PIN matched the old hash only
    fresh = partner.place({**KIM, "salesperson": "11", "salesperson_pin": "5555"}, "race-2")
    assert fresh.status_code == 201, fresh.get_json()


def test_the_openapi_document_describes_the_orders_salesperson(cas):  # noqa: F811
    _services, app, _switch, _partner = cas
    document = app.test_client().get("/api/openapi.json").get_json()
    fields = document["components"]["schemas"]["OrderRequest"]["properties"]
    assert fields["salesperson"]["maxLength"] == 8
    assert (fields["salesperson_pin"]["minLength"], fields["salesperson_pin"]["maxLength"]) == (
        4,
        8,
    )
    together = document["components"]["schemas"]["OrderRequest"]["allOf"]
    assert {"required": ["salesperson_pin"]} in together[0]["anyOf"]
    refusals = document["paths"]["/api/orders"]["post"]["responses"]
    assert "salesperson" in refusals["403"]["description"]
