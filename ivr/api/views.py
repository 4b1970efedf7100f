"""The JSON routes of the activation API; every answer is JSON, errors included."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from activation.keyed import is_digits, is_keys
from activation.service_layer import console_admin
from activation.service_layer.api_sessions import ApiFlow, ApiRefused, Partner
from activation.services import Services
from ivr.api import inventory_views, order_views
from ivr.api.bodies import parsed_json
from ivr.api.openapi import document
from ivr.logging_json import bind_transaction

log = logging.getLogger("cas.api")

# What each value is, and how it is told to a partner who sent something else: ASCII digits
# and the phone's keys only, checked where the call and the console check them.
Rule = tuple[Callable[[object], bool], str]
CODE: Rule = (lambda v: is_digits(v, 8, 8), "8 digits")
AGENT: Rule = (lambda v: is_digits(v, 1, 8), "1 to 8 digits")
PIN: Rule = (lambda v: is_digits(v, 4, 8), "4 to 8 digits")
VALUE: Rule = (lambda v: is_keys(v, 20), "1 to 20 of the keys 0-9, * and #")


def _error(status: int, message: str) -> tuple[Response, int]:
    reply = jsonify({"error": message})
    if status == 401:
        reply.headers["WWW-Authenticate"] = 'Bearer realm="cas"'
    return reply, status


def _services() -> Services:
    return current_app.extensions["cas"]


def _flow() -> ApiFlow:
    return current_app.extensions["cas.api"]


def _presented_key() -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-API-Key", "").strip()


def _authenticate() -> tuple[Response, int] | None:
    if request.endpoint in ("api.openapi", None):
        return None
    key = _presented_key()
    if not key or len(key) > 200:
        return _error(401, "an API key is needed: Authorization: Bearer <key>")
    holder = console_admin.key_holder(_services(), key)
    if holder is None:
        return _error(401, "that API key is not valid")
    g.partner = Partner(*holder)
    return None


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiRefused(415, "send a JSON body (Content-Type: application/json)")
    body = parsed_json()
    if not isinstance(body, dict):
        raise ApiRefused(422, "the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, rule: Rule, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    valid, what = rule
    if not isinstance(value, str) or not valid(value):
        raise ApiRefused(422, f"'{name}' is missing or not {what}")
    return value


def _seq(raw: Any) -> int | None:
    # JSON Schema's integer includes 3.0; a bool is not a number here.
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ApiRefused(422, "'seq' is the answer number the value responds to")
    return raw


def _code(code: str) -> str:
    if not CODE[0](code):
        raise ApiRefused(404, f"no transaction {code[:20]}")
    return code


def _reply(state: dict[str, Any], status: int = 200) -> tuple[Response, int]:
    """Answer with a session's state (its messages are codes; its read-back is masked)."""
    bind_transaction(state.get("transaction_code"))
    return jsonify(state), status


def make_blueprint() -> Blueprint:
    """Build the API blueprint."""
    bp = Blueprint("api", __name__, url_prefix="/api")
    bp.before_request(_authenticate)

    @bp.errorhandler(ApiRefused)
    def _refused(error: ApiRefused) -> Any:
        return _error(error.status, str(error))

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        return _error(error.code or 500, error.description or error.name)

    @bp.errorhandler(Exception)
    def _broken(error: Exception) -> Any:
        log.exception("API request failed")
        return _error(500, "internal error; the request may be retried")

    order_views.register(bp)
    inventory_views.register(bp)

    @bp.get("/openapi.json")
    def openapi() -> Any:
        """Serve the OpenAPI 3 document of this API."""
        return jsonify(document(request.host_url.rstrip("/")))

    @bp.post("/transactions")
    def create() -> Any:
        """Log an agent on and start a transaction (or resume one by its code)."""
        body = _body()
        agent = _text(body, "agent", AGENT, True)
        pin = _text(body, "pin", PIN, True)
        code = _text(body, "code", CODE, False)
        seller = _text(body, "salesperson", AGENT, False)
        seller_pin = _text(body, "salesperson_pin", PIN, seller is not None)
        assert agent is not None and pin is not None
        salesperson = (seller, seller_pin) if seller and seller_pin else None
        state = _flow().open(g.partner, agent, pin, code, salesperson)
        return _reply(state, 201)

    @bp.get("/transactions/<code>")
    def status(code: str) -> Any:
        """Tell where a transaction stands (polling the background work at a hold step)."""
        flow = _flow()
        return _reply(flow.poll(flow.find(g.partner, _code(code))))

    @bp.post("/transactions/<code>/answers")
    def answer(code: str) -> Any:
        """Answer the step the transaction waits at."""
        flow = _flow()
        call_sid = flow.find(g.partner, _code(code))
        body = _body()
        value = _text(body, "value", VALUE, True)
        seq = _seq(body.get("seq"))
        assert value is not None
        return _reply(flow.submit(call_sid, value, seq))

    return bp
