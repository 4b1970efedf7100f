"""The inventory pages: stock against minimums, open re-orders, deliveries to receive, the
stock chart, sales per agent and salesperson with CSV export (the browser test is
tests/console/test_inventory_browser.py, beside the console's shared Chromium)."""

from __future__ import annotations

import csv
import io
import itertools

from sqlalchemy import select

from activation.inventory import sales
from activation.store.inventory import Delivery
from activation.store.models import Handset, Transaction, utcnow
from activation.store.salespeople import Salesperson
from tests.console.conftest import csrf_of, log_in, users  # noqa: F401
from tests.queue.conftest import active_transaction

from ..console.conftest import app  # noqa: F401

_MIDS = itertools.count(300)


def _sell(services, esns: list[str], agent: str = "1001", salesperson: str | None = None):  # type: ignore[no-untyped-def]
    """Lines activated now with these handsets, sold through the stock."""
    with services.db.transaction() as session:
        for esn in esns:
            code = f"7{abs(hash(esn)) % 10**7:07d}"
            mid = f"713555{next(_MIDS):04d}"
            tx = active_transaction(session, code, mid, esn=esn, agent=agent)
            tx.completed_at = utcnow()
            if salesperson:
                tx.salesperson_id = session.scalar(
                    select(Salesperson.id).where(Salesperson.code == salesperson)
                )
            handset = session.get(Handset, esn)
            handset.status, handset.location = "in_stock", "at_agent"
            sales.sell(session, tx, esn, "worker", "activated")


def _row(html: str, row_id: str) -> str:
    start = html.index(f'id="{row_id}"')
    return html[start : html.index("</tr>", start)]


def test_the_stock_page_shows_levels_reorders_and_receives_a_delivery(app, users, services):  # noqa: F811
    _sell(services, ["13803186457", "13803186458"])  # 1001 MT100: 4 -> 2, minimum 3
    client = app.test_client()
    log_in(client, "supervisor", users["supervisor"])
    html = client.get("/console/inventory").get_data(as_text=True)
    assert "below minimum, re-order open" in _row(html, "stock-1001-MT100")
    assert "<svg" in html and "Stock of MT100 at agent 1001" in html
    assert "No delivery is in transit." in html

    token = csrf_of(html)
    shipped = client.post(
        "/console/inventory/ship",
        data={"csrf_token": token, "agent": "1001", "esns": "13803186801\n13803186802"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2 handsets in transit to agent 1001" in shipped
    with services.db.read() as session:
        delivery = session.scalar(select(Delivery))
    assert "<td>2</td>" in _row(shipped, f"delivery-{delivery.id}")
    refused = client.post(
        "/console/inventory/ship",
        data={"csrf_token": token, "agent": "1001", "esns": "13803186457"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Nothing shipped: 13803186457: it is sold, not at headquarters" in refused

    received = client.post(
        f"/console/inventory/deliveries/{delivery.id}/receive",
        data={"csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Delivery {delivery.id} received: 2 handsets in stock." in received
    assert "No re-order is open." in received
    assert "<td>4</td>" in _row(received, "stock-1001-MT100")


def test_a_csr_reads_but_may_not_ship_or_receive(app, users):  # noqa: F811
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    html = client.get("/console/inventory").get_data(as_text=True)
    assert "A supervisor ships handsets" in html and "Ship handsets" not in html
    token = csrf_of(html)
    reply = client.post(
        "/console/inventory/ship", data={"csrf_token": token, "agent": "1001", "esns": "1"}
    )
    assert reply.status_code == 403


def test_sales_per_agent_and_salesperson_export_as_csv(app, users, services):  # noqa: F811
    _sell(services, ["13803186457"])
    _sell(services, ["13803186731", "13803186732"], agent="1004", salesperson="12")
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    today = utcnow().date().isoformat()
    html = client.get(f"/console/inventory/sales?from={today}&to={today}").get_data(as_text=True)
    assert "12 Alex" in html and "(the agent)" in html
    reply = client.get(f"/console/inventory/sales?from={today}&to={today}&format=csv")
    assert reply.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
    assert rows == [
        ["agent", "agent_name", "salesperson", "salesperson_name", "activations"],
        ["1001", "Pat Seller", "", "", "1"],
        ["1004", "Kim Dealer", "12", "Alex", "2"],
    ]
    bad = client.get("/console/inventory/sales?from=2026-13-01").get_data(as_text=True)
    assert "A period is two dates" in bad
    with services.db.read() as session:
        assert session.scalar(select(Transaction).where(Transaction.salesperson_id.is_not(None)))


def test_an_admin_sets_the_agents_stock_settings_and_adds_a_salesperson(app, users, services):  # noqa: F811
    from activation.store.inventory import Reorder, StockLevel
    from activation.store.models import Agent

    client = app.test_client()
    log_in(client, "admin", users["admin"])
    html = client.get("/console/admin/agents/1001/stock").get_data(as_text=True)
    assert "No salespeople: the agent logs on alone." in html
    token = csrf_of(html)
    base = "/console/admin/agents/1001"

    sent = client.post(
        f"{base}/stock/unstocked",
        data={"csrf_token": token, "unstocked_esn": "to_csr"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "an ESN not in stock is to csr" in sent
    bad = client.post(
        f"{base}/stock/unstocked",
        data={"csrf_token": token, "unstocked_esn": "shrug"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "either allowed and noted, or sent to a CSR" in bad

    level = client.post(
        f"{base}/stock/level",
        data={"csrf_token": token, "product": "ST200", "minimum": "5", "quantity": "6"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Agent 1001, ST200: minimum 5, re-order 6." in level
    refused = client.post(
        f"{base}/stock/level",
        data={"csrf_token": token, "product": "ST200", "minimum": "-1", "quantity": "x"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "whole numbers" in refused

    added = client.post(
        f"{base}/salespeople",
        data={"csrf_token": token, "salesperson": "21", "name": "Sam", "pin": "4321"},
    ).get_data(as_text=True)
    assert 'Salesperson 21 added. The PIN is <b class="pin">4321</b>' in added
    again = client.post(
        f"{base}/salespeople",
        data={"csrf_token": token, "salesperson": "21", "name": "Sam"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "has a salesperson 21 already" in again
    with services.db.read() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1001"))
        assert agent.unstocked_esn == "to_csr"
        st200 = session.scalar(
            select(StockLevel).where(
                StockLevel.agent_id == agent.id, StockLevel.product_code == "ST200"
            )
        )
        assert (st200.minimum, st200.reorder_quantity) == (5, 6)
        # 3 in stock against the new minimum of 5: short at once, so re-ordered at once.
        reorder = session.scalar(select(Reorder).where(Reorder.product_code == "ST200"))
        assert (reorder.quantity, reorder.stock_at_order) == (6, 3)
        sam = session.scalar(select(Salesperson).where(Salesperson.code == "21"))
        assert sam.agent_id == agent.id and sam.pin_hash.startswith("pbkdf2$")
    csr = app.test_client()
    log_in(csr, "csr", users["csr"])
    assert csr.get(f"{base}/stock").status_code == 403
