"""The warehouse partner's API: agents' stock, open re-orders, deliveries in transit, and
shipping a delivery (the same as `cas inventory ship` and the CSV drop)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from activation.inventory.deliveries import Item
from activation.keyed import is_digits
from activation.service_layer import inventory, inventory_report
from activation.service_layer.inventory import ShipmentRefused, UnknownAgent
from activation.services import Services
from ivr.api.bodies import parsed_json

MOST_ITEMS = 500


def _services() -> Services:
    return current_app.extensions["cas"]


def _refused(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def stock() -> Any:
    """Every agent's stock per product against its minimum."""
    lines = [{**asdict(line), "short": line.short} for line in inventory.stock_lines(_services())]
    return jsonify({"stock": lines})


def reorders() -> Any:
    """The re-orders waiting for a delivery."""
    return jsonify({"reorders": [asdict(r) for r in inventory_report.open_reorders(_services())]})


def deliveries() -> Any:
    """The deliveries shipped and not yet received."""
    rows = inventory.deliveries_in_transit(_services())
    return jsonify(
        {
            "deliveries": [
                {"id": d, "agent": agent, "shipped_at": at, "handsets": count}
                for d, agent, at, count in rows
            ]
        }
    )


def _items(body: dict[str, Any]) -> list[Item] | str:
    raw = body.get("items")
    if not isinstance(raw, list) or not 0 < len(raw) <= MOST_ITEMS:
        return f"'items' is a list of 1 to {MOST_ITEMS} handsets"
    items = []
    for n, entry in enumerate(raw):
        if not isinstance(entry, dict):
            return f"items[{n}] is an object with 'esn' (and 'product_code')"
        esn, product = entry.get("esn"), entry.get("product_code")
        if not isinstance(esn, str) or not is_digits(esn, 11, 15):
            return f"items[{n}].esn is 11 to 15 digits"
        if product is not None and (not isinstance(product, str) or not 0 < len(product) <= 12):
            return f"items[{n}].product_code is 1 to 12 characters"
        items.append(Item(esn, product))
    return items


def ship() -> Any:
    """Ship handsets from headquarters to an agent: a delivery in transit until received."""
    if not request.is_json:
        return _refused(415, "send a JSON body (Content-Type: application/json)")
    body = parsed_json()
    if not isinstance(body, dict):
        return _refused(422, "the body must be a JSON object")
    agent = body.get("agent")
    if not isinstance(agent, str) or not is_digits(agent, 1, 8):
        return _refused(422, "'agent' is the agent ID, 1 to 8 digits")
    items = _items(body)
    if isinstance(items, str):
        return _refused(422, items)
    try:
        shipped = inventory.ship(_services(), agent, items, f"api {g.partner.name}", "api")
    except UnknownAgent as unknown:
        return _refused(404, f"nothing shipped: {unknown}")
    except ShipmentRefused as refused:
        return _refused(422, f"nothing shipped: {refused}")
    reply = jsonify({"id": shipped.delivery_id, "agent": agent, "handsets": shipped.count})
    return reply, 201


def register(bp: Blueprint) -> None:
    """Add the inventory routes to the API blueprint (its key check runs first)."""
    bp.add_url_rule("/inventory/stock", "inventory_stock", stock, methods=["GET"])
    bp.add_url_rule("/inventory/reorders", "inventory_reorders", reorders, methods=["GET"])
    bp.add_url_rule("/inventory/deliveries", "inventory_deliveries", deliveries, methods=["GET"])
    bp.add_url_rule("/inventory/deliveries", "inventory_ship", ship, methods=["POST"])
