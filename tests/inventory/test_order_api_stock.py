"""A partner's activate order meets the agent's stock rules as a call does: an ESN from
elsewhere is noted, or refused for an agent whose such ESNs go to a CSR; the activation
takes the handset from the agent's stock."""

from __future__ import annotations

from sqlalchemy import select

from activation.store.models import AuditEntry, Handset, Transaction
from tests.console.test_orders_api import ACTIVATE, cas, drain  # noqa: F401


def test_an_order_takes_the_handset_from_stock_or_notes_it(cas):  # noqa: F811
    services, _app, _switch, partner = cas
    stocked = partner.place(ACTIVATE, "stock-1").get_json()
    other = partner.place({**ACTIVATE, "esn": "13803186611"}, "stock-2").get_json()
    drain(services)
    with services.db.read() as session:
        assert session.get(Handset, "13803186457").location == "sold"
        assert session.get(Handset, "13803186611").location == "sold"
        notes = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.entity_id == other["id"])
        ).all()
        assert "ESN 13803186611 not in the agent's stock" in notes
        quiet = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.entity_id == stocked["id"])
        ).all()
        assert not any("not in the agent's stock" in n for n in quiet)


def test_an_agent_whose_unstocked_esns_go_to_a_csr_has_such_an_order_refused(cas):  # noqa: F811
    services, _app, _switch, partner = cas
    body = {**ACTIVATE, "agent": "1002", "pin": "1357"}
    refused = partner.place(body, "stock-3")
    assert refused.status_code == 422
    assert "the handset 13803186457 is not in agent 1002's stock" in refused.get_json()["error"]
    accepted = partner.place({**body, "esn": "13803186612"}, "stock-4")
    assert accepted.status_code == 201, accepted.get_json()
    with services.db.read() as session:
        assert session.scalar(select(Transaction.esn)) == "13803186612"
