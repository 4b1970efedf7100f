"""The partner order API: a whole order in one body, read back by its id, notices on change."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request

from activation.service_layer import api_orders, notifications
from activation.service_layer.api_orders import Caller, OrderRejected
from activation.service_layer.line_orders import OrderView
from activation.services import Services
from ivr.api.bodies import parsed_json

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,80}$")
ORDER_ID = re.compile(r"^[0-9]{8}$")
NOTICE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x7e]*)?$")
PRINTABLE_SECRET = re.compile(r"^[\x20-\x7e]{16,200}$")


def _services() -> Services:
    return current_app.extensions["cas"]


def _refused(status: int, message: str, **extra: str) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


def order_json(order: OrderView) -> dict[str, Any]:
    """An order as the partner reads it (TMF622's state words)."""
    return {
        "id": order.code,
        "href": f"/api/orders/{order.code}",
        "type": order.type,
        "state": order.state,
        "mid": order.mid,
        "transactionCode": order.transaction_code,
        "params": order.params,
        "failure": order.failure,
        "channel": order.channel,
        "createdAt": order.created_at.isoformat(),
        "updatedAt": order.updated_at.isoformat(),
        "completedAt": order.completed_at.isoformat() if order.completed_at else None,
        "milestones": [
            {"at": m.at.isoformat(), "state": m.state, "detail": m.detail} for m in order.milestones
        ],
        "work": [
            {"type": kind, "target": target, "state": state, "attempts": attempts}
            for kind, target, state, attempts in order.activities
        ],
    }


def _caller() -> Caller:
    return Caller(g.partner.key_id, g.partner.partner_id, g.partner.name)


def register(bp: Blueprint) -> None:
    """Add the order routes to the API blueprint (its key check runs first)."""

    @bp.post("/orders")
    def place_order() -> Any:
        """Take a whole order; the same Idempotency-Key and body give the same order back."""
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            return _refused(
                400, "an Idempotency-Key header of 1 to 80 visible characters is needed"
            )
        if not request.is_json:
            return _refused(415, "send a JSON body (Content-Type: application/json)")
        body = parsed_json()
        if not isinstance(body, dict):
            return _refused(422, "the body must be a JSON object")
        try:
            new, order = api_orders.submit(_services(), _caller(), key, body)
        except OrderRejected as rejected:
            return _refused(
                rejected.status, str(rejected), reason=rejected.reason, **rejected.extra
            )
        reply = jsonify(order_json(order))
        reply.headers["Location"] = f"/api/orders/{order.code}"
        return reply, 201 if new else 200

    @bp.get("/orders/<order_id>")
    def get_order(order_id: str) -> Any:
        """Read an order of this partner's."""
        order = (
            api_orders.find(_services(), _caller(), order_id)
            if ORDER_ID.fullmatch(order_id)
            else None
        )
        if order is None:
            return _refused(404, f"no order {order_id[:20]} for this partner")
        return jsonify(order_json(order))

    @bp.put("/notifications")
    def set_notifications() -> Any:
        """Register (or replace) the URL this key's order notices go to, and their secret."""
        body = parsed_json() if request.is_json else None
        if not isinstance(body, dict):
            return _refused(422, 'send {"url": ..., "secret": ...} as JSON')
        url, secret = body.get("url"), body.get("secret")
        problem = _url_problem(url) or _secret_problem(secret)
        if problem:
            return _refused(422, problem)
        target = notifications.register(_services(), g.partner.key_id, url, secret)
        return jsonify(asdict(target))

    @bp.get("/notifications")
    def get_notifications() -> Any:
        """Where this key's order notices go."""
        target = notifications.current(_services(), g.partner.key_id)
        if target is None:
            return _refused(404, "no notification URL registered for this key")
        return jsonify(asdict(target))

    @bp.delete("/notifications")
    def stop_notifications() -> Any:
        """Send no more notices to this key's URL."""
        notifications.stop(_services(), g.partner.key_id)
        return "", 204


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str) or len(url) > 300:
        return "'url' is an http or https URL of at most 300 characters"
    if not NOTICE_URL.fullmatch(url):
        return "'url' is an http or https URL of at most 300 characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "'url' is an http or https URL of at most 300 characters"
    return None


def _secret_problem(secret: Any) -> str | None:
    if not isinstance(secret, str) or not PRINTABLE_SECRET.fullmatch(secret):
        return "'secret' is 16 to 200 printable characters (it signs the notices)"
    return None
