"""The inventory API's part of the OpenAPI document: stock, re-orders, deliveries."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _list_of(key: str, item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": _ref(item)}},
    }


SCHEMAS: dict[str, Any] = {
    "StockLine": {
        "type": "object",
        "required": ["agent_code", "product_code", "on_hand", "in_transit", "minimum"],
        "properties": {
            "agent_code": {"type": "string"},
            "product_code": {"type": "string"},
            "on_hand": {"type": "integer", "description": "in the agent's stock, to sell"},
            "in_transit": {"type": "integer", "description": "shipped, not yet received"},
            "minimum": {"type": "integer"},
            "reorder_quantity": {"type": "integer"},
            "reorder_open": {"type": "boolean"},
            "short": {"type": "boolean", "description": "on hand below the minimum"},
        },
    },
    "OpenReorder": {
        "type": "object",
        "required": ["reorder_id", "agent_code", "product_code", "quantity"],
        "properties": {
            "reorder_id": {"type": "integer"},
            "agent_code": {"type": "string"},
            "product_code": {"type": "string"},
            "quantity": {"type": "integer"},
            "stock_at_order": {"type": "integer"},
            "opened_at": {"type": "string"},
            "warehouse_ref": {"type": "string", "description": "CAS-R and the number, once sent"},
        },
    },
    "DeliveryInTransit": {
        "type": "object",
        "required": ["id", "agent", "shipped_at", "handsets"],
        "properties": {
            "id": {"type": "integer"},
            "agent": {"type": "string"},
            "shipped_at": {"type": "string"},
            "handsets": {"type": "integer"},
        },
    },
    "NewDelivery": {
        "type": "object",
        "required": ["agent", "items"],
        "properties": {
            "agent": {"type": "string", "pattern": "^[0-9]{1,8}$", "description": "agent ID"},
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": {
                    "type": "object",
                    "required": ["esn"],
                    "properties": {
                        "esn": {"type": "string", "pattern": "^[0-9]{11,15}$"},
                        "product_code": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 12,
                            "description": "needed for a handset CAS has not seen",
                        },
                    },
                },
            },
        },
    },
    "Delivery": {
        "type": "object",
        "required": ["id", "agent", "handsets"],
        "properties": {
            "id": {"type": "integer"},
            "agent": {"type": "string"},
            "handsets": {"type": "integer"},
        },
    },
}


def paths(auth_errors: dict[str, Any], error: Any) -> dict[str, Any]:
    """The inventory routes, with the document's own error helper."""
    return {
        "/api/inventory/stock": {
            "get": {
                "operationId": "inventoryStock",
                "summary": "Every agent's stock per product against its minimum",
                "responses": {
                    "200": _json("the stock", _list_of("stock", "StockLine")),
                    **auth_errors,
                },
            }
        },
        "/api/inventory/reorders": {
            "get": {
                "operationId": "openReorders",
                "summary": "The re-orders waiting for a delivery",
                "responses": {
                    "200": _json("open re-orders", _list_of("reorders", "OpenReorder")),
                    **auth_errors,
                },
            }
        },
        "/api/inventory/deliveries": {
            "get": {
                "operationId": "deliveriesInTransit",
                "summary": "Deliveries shipped and not yet received by their agent",
                "responses": {
                    "200": _json("in transit", _list_of("deliveries", "DeliveryInTransit")),
                    **auth_errors,
                },
            },
            "post": {
                "operationId": "shipDelivery",
                "summary": "Ship handsets from headquarters to an agent (all or none)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewDelivery")}},
                },
                "responses": {
                    "201": _json("the delivery, in transit", _ref("Delivery")),
                    **auth_errors,
                    "404": error("no such agent"),
                    "415": error("the body is not JSON"),
                    "422": error(
                        "a field is malformed, or a handset is not headquarters' to ship "
                        "(each named)"
                    ),
                },
            },
        },
    }
