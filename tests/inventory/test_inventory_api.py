"""The warehouse partner's API: stock, re-orders, deliveries in transit, and shipping one."""

from __future__ import annotations

from sqlalchemy import select

from activation.service_layer.staff import add_api_key
from activation.store.inventory import Delivery, HandsetMovement
from tests.console.conftest import api_key, app  # noqa: F401

from .test_console_inventory import _sell


def _get(client, path: str, key: str):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"Authorization": f"Bearer {key}"})


def test_a_warehouse_reads_stock_and_reorders_and_ships(app, api_key, services):  # noqa: F811
    _sell(services, ["13803186457", "13803186458"])
    client = app.test_client()
    assert client.get("/api/inventory/stock").status_code == 401
    stock = _get(client, "/api/inventory/stock", api_key).get_json()["stock"]
    line = next(s for s in stock if (s["agent_code"], s["product_code"]) == ("1001", "MT100"))
    assert (line["on_hand"], line["minimum"], line["short"], line["reorder_open"]) == (
        2,
        3,
        True,
        True,
    )
    reorders = _get(client, "/api/inventory/reorders", api_key).get_json()["reorders"]
    assert [(r["agent_code"], r["product_code"], r["quantity"]) for r in reorders] == [
        ("1001", "MT100", 5)
    ]

    headers = {"Authorization": f"Bearer {api_key}"}
    body = {
        "agent": "1001",
        "items": [{"esn": "13803186801"}, {"esn": "13803186993", "product_code": "MT100"}],
    }
    shipped = client.post("/api/inventory/deliveries", json=body, headers=headers)
    assert shipped.status_code == 201, shipped.get_json()
    delivery = shipped.get_json()
    assert (delivery["agent"], delivery["handsets"]) == ("1001", 2)
    in_transit = _get(client, "/api/inventory/deliveries", api_key).get_json()["deliveries"]
    assert [(d["id"], d["agent"], d["handsets"]) for d in in_transit] == [
        (delivery["id"], "1001", 2)
    ]

    again = client.post("/api/inventory/deliveries", json=body, headers=headers)
    assert again.status_code == 422
    assert "13803186801: it is in transit, not at headquarters" in again.get_json()["error"]
    bad = client.post(
        "/api/inventory/deliveries",
        json={"agent": "1001", "items": [{"esn": "12"}]},
        headers=headers,
    )
    assert bad.status_code == 422 and "items[0].esn" in bad.get_json()["error"]
    not_json = client.post("/api/inventory/deliveries", data="x", headers=headers)
    assert not_json.status_code == 415


def test_the_openapi_document_describes_the_inventory_routes(app):  # noqa: F811
    document = app.test_client().get("/api/openapi.json").get_json()
    assert {"/api/inventory/stock", "/api/inventory/reorders", "/api/inventory/deliveries"} <= set(
        document["paths"]
    )
    assert "NewDelivery" in document["components"]["schemas"]


def test_a_warehouse_with_the_longest_name_allowed_is_named_whole_on_its_shipment(app, services):  # noqa: F811
    name = "the carrier's own reseller network south"  # 40 characters: the most allowed
    with services.db.transaction() as session:
        key = add_api_key(session, name)
    shipped = app.test_client().post(
        "/api/inventory/deliveries",
        json={"agent": "1001", "items": [{"esn": "13803186801"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert shipped.status_code == 201, shipped.get_json()
    with services.db.read() as session:
        assert session.scalars(select(Delivery.shipped_by)).one() == f"api {name}"
        movement = session.scalars(
            select(HandsetMovement).where(HandsetMovement.esn == "13803186801")
        )
        assert [m.actor for m in movement][-1] == f"api {name}"
