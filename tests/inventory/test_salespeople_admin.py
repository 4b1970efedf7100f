"""An admin keeps an agent's salespeople: restrictions, a new PIN (shown once, lifting a lock,
never audited), their log-on taken away and given back; by the use cases, by the console's
agent stock page, and as the phone then hears it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activation.secrets import check_pin
from activation.service_layer import agent_stock
from activation.service_layer.csr import NotFound, Refused
from activation.store.models import AuditEntry
from activation.store.salespeople import Salesperson
from tests.console.conftest import users  # noqa: F401
from tests.console.test_console_actions import Console
from tests.flow.conftest import log_on, phone  # noqa: F401

from ..console.conftest import app  # noqa: F401


def _person(services, code: str) -> Salesperson:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        person = session.scalar(select(Salesperson).where(Salesperson.code == code))
        assert person is not None
        return person


def _audit(services, who: str) -> list[tuple[str | None, str, str, str]]:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        rows = session.execute(
            select(
                AuditEntry.old_status, AuditEntry.new_status, AuditEntry.actor, AuditEntry.detail
            )
            .where(AuditEntry.entity == "salesperson", AuditEntry.entity_id == who)
            .order_by(AuditEntry.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_restrictions_are_set_checked_and_cleared(services):  # type: ignore[no-untyped-def]
    said = agent_stock.set_restrictions(services, "1004", "11", "10, 20 10", "713555", "ann")
    assert said == "Salesperson 11 of agent 1004 may sell rate plans 10, 20; NPA-NXX 713555."
    assert _person(services, "11").restrictions == {
        "rate_plans": ["10", "20"],
        "npa_nxx": ["713555"],
    }
    with pytest.raises(Refused, match="No rate plan 77"):
        agent_stock.set_restrictions(services, "1004", "11", "10 77", "", "ann")
    with pytest.raises(Refused, match="serves NPA-NXX 212555, 71355"):
        agent_stock.set_restrictions(services, "1004", "11", "", "212555 71355", "ann")
    assert _person(services, "11").restrictions["rate_plans"] == ["10", "20"]  # refused: kept
    cleared = agent_stock.set_restrictions(services, "1004", "11", " ", "", "ann")
    assert cleared.endswith("may sell what the agent may.")
    assert _person(services, "11").restrictions == {}
    with pytest.raises(NotFound):
        agent_stock.set_restrictions(services, "1004", "99", "10", "", "ann")
    assert [(new, detail) for _old, new, _actor, detail in _audit(services, "1004/11")] == [
        ("restrictions", "rate plans 10, 20; NPA-NXX 713555"),
        ("restrictions", "what the agent may"),
    ]


def test_a_new_pin_replaces_the_old_lifts_a_lock_and_is_never_audited(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        robin = session.scalar(select(Salesperson).where(Salesperson.code == "11"))
        robin.locked, robin.failed_attempts = True, 3
    assert agent_stock.new_pin(services, "1004", "11", "8080", "ann") == "8080"
    robin = _person(services, "11")
    assert check_pin("8080", robin.pin_hash) and not check_pin("1111", robin.pin_hash)
    assert (robin.locked, robin.failed_attempts) == (False, 0)
    drawn = agent_stock.new_pin(services, "1004", "11", "", "ann")
    assert len(drawn) == 6 and drawn.isdigit()
    assert check_pin(drawn, _person(services, "11").pin_hash)
    with pytest.raises(Refused, match="4 to 8 digits"):
        agent_stock.new_pin(services, "1004", "11", "12a4", "ann")
    entries = _audit(services, "1004/11")
    assert [(old, new, detail) for old, new, _a, detail in entries] == [
        ("locked", "active", "new PIN"),
        ("active", "active", "new PIN"),
    ]
    assert not any("8080" in str(entry) or drawn in str(entry) for entry in entries)


def test_without_a_log_on_a_salesperson_is_as_unknown_and_an_agent_left_alone_logs_on_alone(
    services,
    phone,  # noqa: F811
):  # type: ignore[no-untyped-def]
    said = agent_stock.set_log_on(services, "1004", "11", False, "ann")
    assert said == "Salesperson 11 of agent 1004 may no longer log on."
    call = log_on(phone, "1004", "8642")
    call.press("11#")
    heard = call.press("1111#")
    assert "That salesperson I D and PIN do not match" in heard
    assert "salesperson I D" in call.last_prompt

    agent_stock.set_log_on(services, "1004", "12", False, "ann")
    alone = log_on(phone, "1004", "8642")
    assert "salesperson" not in alone.last_prompt and "press pound" in alone.last_prompt

    agent_stock.set_log_on(services, "1004", "11", True, "ann")
    back = log_on(phone, "1004", "8642")
    back.press("11#")
    back.press("1111#")
    assert "Hello Robin" in back.last_prompt
    assert [(o, n) for o, n, _a, _d in _audit(services, "1004/11")] == [
        ("log-on", "no log-on"),
        ("no log-on", "log-on"),
    ]


def test_an_admin_keeps_salespeople_on_the_agents_stock_page(app, users, services):  # noqa: F811
    admin = Console(app, "admin", users["admin"])
    html = admin.get("/console/admin/agents/1004/stock")
    assert 'id="salesperson-12"' in html and "rate plans: 10; NPA-NXX: 713555" in html
    base = "/console/admin/agents/1004/salespeople/12"

    set_ = admin.post(f"{base}/restrictions", rate_plans="10,20", npa_nxx="")
    assert "Salesperson 12 of agent 1004 may sell rate plans 10, 20." in set_
    refused = admin.post(f"{base}/restrictions", rate_plans="", npa_nxx="212555")
    assert "No switch of this CAS serves NPA-NXX 212555." in refused

    pin = admin.post(f"{base}/pin", pin="4545")
    assert 'Salesperson 12 has a new PIN. The PIN is <b class="pin">4545</b>' in pin
    bad_pin = admin.post(f"{base}/pin", pin="45")
    assert "A PIN is 4 to 8 digits." in bad_pin
    assert "4545" not in admin.get("/console/admin/agents/1004/stock")

    away = admin.post(f"{base}/log-on", may_log_on="0")
    assert "may no longer log on" in away
    assert "no log-on" in away[away.index('id="salesperson-12"') :].split("</tr>")[0]
    assert "give log-on back" in away
    missing = admin.client.post(f"{base[:-2]}77/pin", data={"csrf_token": admin.token})
    assert missing.status_code == 404

    alex = _person(services, "12")
    assert alex.restrictions == {"rate_plans": ["10", "20"]} and not alex.may_log_on
    assert check_pin("4545", alex.pin_hash)
    csr = Console(app, "csr", users["csr"])
    reply = csr.client.post(f"{base}/log-on", data={"csrf_token": csr.token, "may_log_on": "1"})
    assert reply.status_code == 403
    assert not _person(services, "12").may_log_on
