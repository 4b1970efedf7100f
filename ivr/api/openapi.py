"""The OpenAPI 3 document of the activation API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from ivr.api import openapi_inventory, openapi_orders

DIGITS_8 = {"type": "string", "pattern": "^[0-9]{8}$", "example": "12345678"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _activation(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activation"}}},
    }


def _json_body(ref: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_NULLABLE_TEXT = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "NewTransaction": {
        "type": "object",
        "required": ["agent", "pin"],
        "properties": {
            "agent": {"type": "string", "pattern": "^[0-9]{1,8}$", "description": "agent ID"},
            "pin": {"type": "string", "pattern": "^[0-9]{4,8}$", "description": "agent's PIN"},
            "code": {**DIGITS_8, "description": "resume this transaction instead"},
            "salesperson": {
                "type": "string",
                "pattern": "^[0-9]{1,8}$",
                "description": "salesperson ID, for an agent with salespeople",
            },
            "salesperson_pin": {
                "type": "string",
                "pattern": "^[0-9]{4,8}$",
                "description": "the salesperson's PIN (with salesperson)",
            },
        },
        # A salesperson comes with their PIN (dependentRequired, in words every generator reads).
        "anyOf": [{"not": {"required": ["salesperson"]}}, {"required": ["salesperson_pin"]}],
    },
    "Entry": {
        "type": "object",
        "required": ["value"],
        "properties": {
            "value": {
                "type": "string",
                "pattern": "^[0-9*#]{1,20}$",
                "description": "the keys an agent would press; '0' reaches a CSR",
            },
            "seq": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "the seq this value answers; a repeat with an old seq is a no-op "
                "(null or absent: the step waiting now)",
            },
        },
    },
    "Expects": {
        "type": ["object", "null"],
        "required": ["kind", "choices"],
        "properties": {
            "kind": {"type": "string", "enum": ["digits", "choice"]},
            "what": {"type": "string"},
            "min_digits": {"type": "integer"},
            "max_digits": {"type": "integer"},
            "choices": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Activation": {
        "type": "object",
        "required": ["transaction_code", "status", "step", "state", "seq", "messages", "values"],
        "properties": {
            "transaction_code": _NULLABLE_TEXT,
            "status": {
                **_NULLABLE_TEXT,
                "description": "incomplete, credit_check, assigning, delayed, active, declined, "
                "escalated or closed",
            },
            "step": {"type": "string", "description": "the step of the call flow"},
            "state": {
                "type": "string",
                "enum": ["input", "hold", "escalated", "ended"],
                "description": "input: answer the step; hold: read the status again after "
                "retry_after seconds; escalated: a CSR has the transaction; ended",
            },
            "seq": {"type": "integer"},
            "messages": {
                "type": "array",
                "description": "what the step told the caller, as codes (e.g. invalid, "
                "esn_wrong, rate_plan_unknown, npa_nxx_unserved): the keys of the voice prompts",
                "items": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}},
                },
            },
            "read_back": {
                "type": ["object", "null"],
                "description": "at a confirmation step: the value to confirm, masked where it is "
                "a tax ID (answer 1 if it is right, 2 to send it again)",
                "properties": {
                    "field": {"type": "string"},
                    "value": {"type": ["string", "integer", "null"]},
                    "name": _NULLABLE_TEXT,
                    "address": _NULLABLE_TEXT,
                    "monthly_cents": {"type": ["integer", "null"]},
                },
            },
            "expects": {"$ref": "#/components/schemas/Expects"},
            "retry_after": {"type": ["integer", "null"]},
            "escalation_reason": _NULLABLE_TEXT,
            "mid": {**_NULLABLE_TEXT, "description": "the new number, once active"},
            "values": {
                "type": "object",
                "description": "what the transaction holds; the SSN only as its last four",
                "additionalProperties": {"type": ["string", "integer", "null"]},
            },
        },
    },
}


def document(server_url: str = "") -> dict[str, Any]:
    """Return the OpenAPI document, naming the server it is served from."""
    code_param = {
        "name": "code",
        "in": "path",
        "required": True,
        "schema": DIGITS_8,
        "description": "the transaction code",
    }
    auth_errors = {"401": _error("no API key, or not a valid one")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CAS activation API",
            "version": "1",
            "description": "Activate a cellular customer without a phone call, and change a "
            "line afterwards. Orders (/api/orders) carry a whole order in one body, in TM Forum "
            "TMF622's state words; transactions (/api/transactions) take the activation call's "
            "steps one value at a time; a warehouse partner reads agents' stock and re-orders and "
            "ships deliveries (/api/inventory).",
        },
        "servers": [{"url": server_url}] if server_url else [],
        "security": [{"bearer": []}],
        "paths": {
            "/api/transactions": {
                "post": {
                    "operationId": "createTransaction",
                    "summary": "Log an agent on and start a new transaction (or resume one)",
                    "requestBody": _json_body("NewTransaction"),
                    "responses": {
                        "201": _activation("the transaction, waiting for its first value"),
                        **auth_errors,
                        "403": _error("the agent ID and PIN do not match, or the agent is locked"),
                        "404": _error("no transaction with that code for this agent"),
                        "409": _error("the transaction cannot be resumed"),
                        "415": _error("the body is not JSON"),
                        "422": _error("a field is missing or malformed"),
                    },
                }
            },
            "/api/transactions/{code}": {
                "get": {
                    "operationId": "getTransaction",
                    "summary": "Where the transaction stands; polls background work at a hold",
                    "parameters": [code_param],
                    "responses": {
                        "200": _activation("the transaction"),
                        **auth_errors,
                        "404": _error("no such transaction for this partner"),
                    },
                }
            },
            "/api/transactions/{code}/answers": {
                "post": {
                    "operationId": "answerStep",
                    "summary": "Answer the step the transaction waits at",
                    "parameters": [code_param],
                    "requestBody": _json_body("Entry"),
                    "responses": {
                        "200": _activation("what comes next"),
                        **auth_errors,
                        "404": _error("no such transaction for this partner"),
                        "409": _error("the session has ended, or it is on hold"),
                        "415": _error("the body is not JSON"),
                        "422": _error("the value is missing or malformed"),
                    },
                }
            },
            **openapi_orders.paths(auth_errors, _error),
            **openapi_inventory.paths(auth_errors, _error),
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "the OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a partner API key from `cas api-key add PARTNER`",
                }
            },
            "schemas": {**SCHEMAS, **openapi_orders.SCHEMAS, **openapi_inventory.SCHEMAS},
        },
    }
