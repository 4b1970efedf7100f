"""Any text in any field: signed webhooks at any step, every console form as each role, and
API bodies of any shape. Never a 5xx, and a refused request changes nothing."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from activation.store.db import Base
from activation.store.models import TelephoneNumber
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone

from ..console.conftest import csrf_of, log_in

TOKEN = "fuzz-auth-token"
FUZZ = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# What changes by itself on any request, refused or not: bookkeeping, not state.
NOT_STATE = {"telephone_numbers", "console_sessions", "login_throttles"}
NOT_STATE_COLUMNS = {("api_keys", "last_used_at")}

# Text as a browser or a signed form can carry it: any character but lone surrogates.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
KEYED = st.one_of(
    TEXT,
    st.text("0123456789*#", max_size=20),
    st.sampled_from(["1001", "2468", "#", "0", "1", "2", "13803186457", "²" * 11, "১৩৮"]),
)


def fingerprint(services: Any) -> str:
    """Everything the database holds that a request could change, as one string."""
    parts = []
    with services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_STATE:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in NOT_STATE_COLUMNS]
            query = select(*columns).order_by(*table.primary_key.columns)
            parts.append((table.name, session.execute(query).all()))
        numbers = select(TelephoneNumber.status, func.count()).group_by(TelephoneNumber.status)
        parts.append(("numbers", session.execute(numbers.order_by(TelephoneNumber.status)).all()))
    return repr(parts)


@pytest.fixture
def signed_app(services):  # type: ignore[no-untyped-def]
    """The app with webhooks signed by TOKEN."""
    services.settings = dataclasses.replace(services.settings, twilio_auth_token=TOKEN)
    return create_app({"TESTING": True}, services=services)


def mutated(entry: str) -> st.SearchStrategy[str]:
    """The entry with some of its keys replaced by look-alikes: other scripts' digits and so."""
    swap = st.tuples(st.integers(0, max(len(entry) - 1, 0)), st.sampled_from("²١৭٣x*# ０"))

    def apply(changes: list[tuple[int, str]]) -> str:
        keys = list(entry)
        for at, key in changes:
            keys[at % len(keys)] = key
        return "".join(keys)

    return st.lists(swap, min_size=1, max_size=3).map(apply)


# Keys that take a call from the welcome to each step before the credit check.
PATH = ["1001#", "2468#", "#", "2", "13803186457#", "1", "1", "123456789#"]
WEBHOOKS = [
    "/voice/gather?n={n}",
    "/voice",
    "/voice/callback?tx={text}",
    "/voice/callback/gather?n={n}",
    "/voice/callback-status",
    "/voice/status",
    "/voice/whisper?tx={text}",
]


def test_signed_webhooks_with_any_values_at_any_step(signed_app, services):
    phone = Softphone(FlaskTransport(signed_app), "/voice", auth_token=TOKEN, pause_scale=0)
    client = signed_app.test_client()
    validator = RequestValidator(TOKEN)

    @given(
        steps=st.integers(0, len(PATH)),
        hook=st.sampled_from(["/voice/gather?n={n}"] * 6 + WEBHOOKS),
        n=st.one_of(st.just("own"), st.just("own"), st.text("0123456789-x١", max_size=6)),
        text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
        own_sid=st.sampled_from([True, True, True, False]),
        data=st.data(),
        extra=st.dictionaries(st.sampled_from(["From", "To", "CallStatus", "Direction"]), TEXT),
    )
    @FUZZ
    def webhook(steps, hook, n, text, own_sid, data, extra) -> None:  # type: ignore[no-untyped-def]
        call = phone.dial(from_="+15005550006", to="+15005550000")
        for keys in PATH[:steps]:
            call.press(keys)
        seq = re.search(r"n=(\d+)", call.gather.action).group(1) if call.gather else "1"
        url = hook.format(n=seq if n == "own" else quote(n), text=quote(text, safe=""))
        # The step's right entry with a key or two changed, or anything at all.
        right = PATH[steps].rstrip("#") if steps < len(PATH) else "1"
        digits = data.draw(st.one_of(st.none(), KEYED, mutated(right)))
        form = {**extra, "CallSid": call.sid if own_sid else text}
        if digits is not None:
            form["Digits"] = digits
        headers = {
            "X-Twilio-Signature": validator.compute_signature(f"http://localhost{url}", form)
        }
        before = fingerprint(services)
        reply = client.post(url, data=form, headers=headers)
        assert reply.status_code < 500, (url, form, reply.get_data(as_text=True)[:300])
        if reply.status_code >= 400:
            assert fingerprint(services) == before, (url, form, reply.status_code)

    webhook()


FIELDS = [
    "field", "value", "dollars", "method", "npa_nxx", "reason", "note", "back", "pin",
    "rate_plans", "agent_code", "name", "callback_number", "code", "monthly_dollars",
    "features", "active", "primary_url", "backup_url", "logon_name", "logon_secret",
    "clear_secret", "first_suffix", "last_suffix", "rule_id", "min_score", "max_score",
    "decision", "deposit_dollars", "role", "partner", "transaction_code", "mid", "esn",
    "rate_plan", "customer_name", "customer_address", "deposit_cents", "deposit_method",
    "type", "old_handset", "line_state",
]  # fmt: skip
VALUES = st.one_of(
    TEXT,
    st.sampled_from(["1", "0", "esn", "ssn", "cash", "713555", "10", "approve", "csr", "inf"]),
    st.sampled_from(["change_esn", "change_plan", "suspend", "restore", "disconnect"]),
    st.sampled_from(["1e309", "-1", "9" * 30, "/console/queue", "/console/x\r\ny", "²"]),
)


def _posts(app: Any) -> list[str]:
    rules = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.")
        and "POST" in rule.methods
        and rule.endpoint not in ("console.login", "console.logout")
    ]
    assert len(rules) > 20
    return sorted(rules)


def _flashed_error(client: Any) -> bool:
    with client.session_transaction() as kept:
        flashes = kept.pop("_flashes", [])
    return any(category == "error" for category, _ in flashes)


@pytest.mark.parametrize("role", ["csr", "supervisor", "admin"])
def test_console_forms_with_any_text_as_each_role(app, services, users, phone, role):
    from ..flow.conftest import log_on
    from ..flow.test_activation import new_transaction

    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")  # an escalated transaction for the forms to work on
    client = app.test_client()
    log_in(client, role, users[role])
    token = csrf_of(client.get("/console/dashboard").get_data(as_text=True))
    others = [name for name in ("csr", "supervisor") if name != role] + ["nobody"]
    params = {
        "code": st.sampled_from([code, "00000000", "x"]),
        "esc_id": st.sampled_from(["1", "2", "99"]),
        "activity_id": st.sampled_from(["1", "99"]),
        "switch_id": st.sampled_from(["1", "2", "99"]),
        "rule_id": st.sampled_from(["1", "99"]),
        "name": st.sampled_from(others),
        "prefix": st.sampled_from(["abc", "0"]),
        "npa_nxx": st.sampled_from(["212555", "713555", "x"]),
        "mid": st.sampled_from(["7135550001", "0000000000", "x"]),
    }
    for rule in _posts(app):  # a parameter added later: a few values of its own
        for name in re.findall(r"<(?:\w+:)?(\w+)>", rule):
            params.setdefault(name, st.sampled_from(["1", "0", "x", "١"]))

    @given(
        rule=st.sampled_from(_posts(app)),
        fill=st.fixed_dictionaries({k: v for k, v in params.items()}),
        form=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6),
    )
    @FUZZ
    def post(rule, fill, form) -> None:  # type: ignore[no-untyped-def]
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(fill[m.group(1)], safe=""), rule)
        before = fingerprint(services)
        reply = client.post(url, data={**form, "csrf_token": token})
        assert reply.status_code < 500, (url, form, reply.get_data(as_text=True)[:300])
        if reply.status_code >= 400 or _flashed_error(client):
            assert fingerprint(services) == before, (url, form, reply.status_code)

    post()


def test_console_pages_and_log_in_with_any_query_or_form(app, users):
    client = app.test_client()
    log_in(client, "admin", users["admin"])
    anonymous = app.test_client()
    login_token = csrf_of(anonymous.get("/console/login").get_data(as_text=True))
    pages = ["/console/lookup", "/console/billing", "/console/queue", "/console/escalations"]

    @given(
        page=st.sampled_from(pages),
        query=st.dictionaries(st.sampled_from(["by", "q", "code", "state", "type", "all"]), TEXT),
        login=st.dictionaries(st.sampled_from(["name", "password", "next"]), TEXT),
    )
    @FUZZ
    def browse(page, query, login) -> None:  # type: ignore[no-untyped-def]
        assert client.get(page, query_string=query).status_code < 500, (page, query)
        reply = anonymous.post("/console/login", data={**login, "csrf_token": login_token})
        assert reply.status_code in (302, 400, 401, 429), login

    browse()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
ORDER_FIELDS = ["type", "mid", "esn", "customer", "rate_plan", "npa_nxx", "deposit_payment"]
BODY = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"agent": st.one_of(st.just("1001"), TEXT, JSON), "pin": st.one_of(st.just("2468"), JSON)},
        optional={
            "code": JSON,
            "value": KEYED,
            "seq": JSON,
            **{name: st.one_of(KEYED, JSON) for name in ORDER_FIELDS},
        },
    ),
)


def test_api_bodies_of_any_shape(app, services, api_key):
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {api_key}"}
    opened = client.post("/api/transactions", json={"agent": "1001", "pin": "2468"}, headers=bearer)
    code = opened.get_json()["transaction_code"]

    @given(
        url=st.sampled_from(
            ["/api/transactions", f"/api/transactions/{code}/answers", "/api/orders"]
        ),
        idempotency=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=10),
        body=BODY,
        raw=st.one_of(st.none(), st.binary(max_size=40)),
        content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form"]),
    )
    @FUZZ
    def api(url, idempotency, body, raw, content_type) -> None:  # type: ignore[no-untyped-def]
        data = raw if raw is not None else json.dumps(body)
        headers = {**bearer, "Idempotency-Key": idempotency}
        before = fingerprint(services)
        reply = client.post(url, data=data, content_type=content_type, headers=headers)
        assert reply.status_code < 500, (url, data, reply.get_data(as_text=True)[:300])
        assert reply.is_json
        # A refused log-on is counted against the agent, as on the phone: not a mere refusal.
        if reply.status_code >= 400 and reply.status_code != 403:
            assert fingerprint(services) == before, (url, data, reply.status_code)

    api()
