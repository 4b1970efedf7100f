"""The order API's part of the OpenAPI document: TMF622's shape, CAS's fields."""

from __future__ import annotations

from typing import Any

STATES = ["acknowledged", "inProgress", "held", "completed", "failed", "rejected", "cancelled"]
DIGITS = {"type": "string", "pattern": "^[0-9]+$"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


SCHEMAS: dict[str, Any] = {
    "OrderRequest": {
        "type": "object",
        "required": ["type"],
        "description": "The whole order. activate: agent, pin, esn, customer, rate_plan, npa_nxx "
        "(deposit_payment when a deposit may be due; salesperson and salesperson_pin when the "
        "agent sells through salespeople). change_esn: mid, esn, old_handset. "
        "change_plan: mid, rate_plan. suspend: mid, reason. restore, disconnect: mid.",
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "activate",
                    "change_esn",
                    "change_plan",
                    "suspend",
                    "restore",
                    "disconnect",
                ],
            },
            "agent": {**DIGITS, "description": "agent ID (activate)"},
            "pin": {**DIGITS, "description": "the agent's PIN (activate); never stored"},
            "salesperson": {
                **DIGITS,
                "maxLength": 8,
                "description": "the salesperson's ID (activate): needed when the agent has "
                "salespeople, given with salesperson_pin; their restrictions on rate plans and "
                "NPA-NXX apply and the transaction records them",
            },
            "salesperson_pin": {
                **DIGITS,
                "minLength": 4,
                "maxLength": 8,
                "description": "the salesperson's PIN (activate); never stored; wrong ones "
                "count toward that salesperson's lock",
            },
            "esn": {**DIGITS, "description": "the handset: 11-digit ESN or IMEI/MEID"},
            "customer": {
                "type": "object",
                "required": ["kind", "ssn"],
                "properties": {
                    "kind": {"type": "string", "enum": ["individual", "business"]},
                    "ssn": {**DIGITS, "description": "SSN, or a business's tax ID (9 digits)"},
                },
            },
            "rate_plan": {**DIGITS, "description": "rate plan code"},
            "npa_nxx": {**DIGITS, "description": "the new number's NPA-NXX (6 digits)"},
            "deposit_payment": {"type": "string", "enum": ["cash", "check"]},
            "mid": {**DIGITS, "description": "the line's 10-digit number (changes)"},
            "old_handset": {"type": "string", "enum": ["stock", "lost"]},
            "reason": {"type": "string", "enum": ["lost", "stolen", "non_payment"]},
        },
        # salesperson and salesperson_pin come together, or neither.
        "allOf": [
            {"anyOf": [{"not": {"required": [one]}}, {"required": [other]}]}
            for one, other in (
                ("salesperson", "salesperson_pin"),
                ("salesperson_pin", "salesperson"),
            )
        ],
    },
    "Order": {
        "type": "object",
        "required": ["id", "href", "type", "state", "milestones"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9]{8}$"},
            "href": {"type": "string"},
            "type": {"type": "string"},
            "state": {"type": "string", "enum": STATES},
            "mid": {"type": ["string", "null"], "description": "the line's number"},
            "transactionCode": {"type": ["string", "null"]},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "failure": {"type": ["string", "null"], "description": "why it is held or failed"},
            "channel": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "completedAt": {"type": ["string", "null"], "format": "date-time"},
            "milestones": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "state": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            },
            "work": {
                "type": "array",
                "description": "one activity per network resource the order concerns",
                "items": {"type": "object"},
            },
        },
    },
    "OrderRefusal": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "reason": {
                "type": "string",
                "description": "invalid, logon, no_line, in_flight, line_state, "
                "idempotency_conflict or retry",
            },
            "order": {"type": "string", "description": "the order in flight, or the key's order"},
        },
    },
    "NotificationTarget": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}},
    },
    "NotificationRequest": {
        "type": "object",
        "required": ["url", "secret"],
        "properties": {
            "url": {
                "type": "string",
                "maxLength": 300,
                "pattern": "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\\x21-\\x7e]*)?$",
            },
            "secret": {
                "type": "string",
                "pattern": "^[\\x20-\\x7e]{16,200}$",
                "description": "signs each notice: X-CAS-Signature: t=<unix>,v1=<hex HMAC-SHA256 "
                "of '<unix>.<body>'>; write-only",
            },
        },
    },
}


def paths(auth_errors: dict[str, Any], error: Any) -> dict[str, Any]:
    """The order routes, with the document's own error helper."""
    refusal = lambda why: _json(why, "OrderRefusal")  # noqa: E731
    order_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{8}$"},
    }
    key = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,80}$"},
        "description": "the same key and body give the same order back; another body, 409",
    }
    return {
        "/api/orders": {
            "post": {
                "operationId": "placeOrder",
                "summary": "Place a whole order: answered at once with its id and state",
                "parameters": [key],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("OrderRequest")}},
                },
                "responses": {
                    "201": _json("the new order", "Order"),
                    "200": _json("the order this key placed before (a replay)", "Order"),
                    "400": error("no Idempotency-Key"),
                    **auth_errors,
                    "403": refusal(
                        "the agent ID and PIN do not match, or the agent is locked; the "
                        "agent sells through salespeople and none is given, or the "
                        "salesperson ID and PIN do not match, or the salesperson is locked"
                    ),
                    "404": refusal("no line in service has that number"),
                    "409": refusal(
                        "another order is in flight on the line, the line's state "
                        "does not allow it, or the key was used for another body"
                    ),
                    "415": error("the body is not JSON"),
                    "422": refusal(
                        "a field is missing, malformed or not allowed (the agent's or the "
                        "salesperson's restrictions included)"
                    ),
                    "503": refusal("an outside party could not be asked; try again"),
                },
            }
        },
        "/api/orders/{id}": {
            "get": {
                "operationId": "getOrder",
                "summary": "Where an order stands, with its milestones",
                "parameters": [order_id],
                "responses": {
                    "200": _json("the order", "Order"),
                    **auth_errors,
                    "404": error("no such order for this partner"),
                },
            }
        },
        "/api/notifications": {
            "put": {
                "operationId": "setNotifications",
                "summary": "Send this key's order state changes to a URL, signed",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NotificationRequest")}},
                },
                "responses": {
                    "200": _json("registered", "NotificationTarget"),
                    **auth_errors,
                    "422": error("the URL or the secret is not acceptable"),
                },
            },
            "get": {
                "operationId": "getNotifications",
                "summary": "Where this key's notices go",
                "responses": {
                    "200": _json("the URL", "NotificationTarget"),
                    **auth_errors,
                    "404": error("none registered"),
                },
            },
            "delete": {
                "operationId": "stopNotifications",
                "summary": "Send no more notices",
                "responses": {"204": {"description": "stopped"}, **auth_errors},
            },
        },
    }
