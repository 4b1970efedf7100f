"""Requests no honest client sends get a 4xx or a flash with the reason, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from activation.store.models import AuditEntry, Call, DepositRule, RatePlan

from ..console.conftest import csrf_of, log_in
from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction


@pytest.fixture
def admin(app, users):  # type: ignore[no-untyped-def]
    """A test client logged in as admin, and its CSRF token."""
    client = app.test_client()
    log_in(client, "admin", users["admin"])
    token = csrf_of(client.get("/console/admin/deposits").get_data(as_text=True))
    return client, token


def _flash(client, reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in page
    return page


OVERFLOWING = ["inf", "-inf", "nan", "1e309", "1e30", "9" * 40, "١٢", "1_000", "0x10", "1 0"]


@pytest.mark.parametrize("raw", OVERFLOWING)
def test_numbers_in_reference_forms_are_read_with_bounds(admin, services, raw):
    client, token = admin
    with services.db.read() as session:
        rules = session.scalar(select(func.count()).select_from(DepositRule))
    forms = [
        ("/console/admin/deposits", {"rule_id": raw, "min_score": "0", "max_score": "10"}),
        ("/console/admin/deposits", {"min_score": raw, "max_score": "10", "decision": "approve"}),
        (
            "/console/admin/deposits",
            {"min_score": "990", "max_score": "999", "decision": "approve", "deposit_dollars": raw},
        ),
        ("/console/admin/rate-plans", {"code": "77", "name": "X", "monthly_dollars": raw}),
        ("/console/admin/switches/1/blocks", {"npa_nxx": "713556", "first_suffix": raw}),
    ]
    for url, form in forms:
        _flash(client, client.post(url, data={**form, "csrf_token": token}))
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DepositRule)) == rules
        assert session.get(RatePlan, "77") is None


@pytest.mark.parametrize("raw", ["inf", "1e309", "nan", "-5", "10001", "1.005"])
def test_a_deposit_in_dollars_is_read_with_bounds(app, users, phone, services, raw):
    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    token = csrf_of(client.get(f"/console/transactions/{code}").get_data(as_text=True))
    reply = client.post(
        f"/console/transactions/{code}/deposit",
        data={"dollars": raw, "method": "cash", "csrf_token": token},
    )
    _flash(client, reply)


def test_ids_in_urls_are_ascii_and_fit_a_column(admin):
    client, token = admin
    for url in ("/console/escalations/1" + "0" * 30, "/console/escalations/١", "/console/x"):
        assert client.get(url).status_code == 404, url
    reply = client.post(
        "/console/admin/deposits/" + "9" * 30 + "/delete", data={"csrf_token": token}
    )
    assert reply.status_code == 404
    reply = client.post("/console/queue/" + "9" * 12 + "/retry", data={"csrf_token": token})
    assert reply.status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "/console/queue\r\nSet-Cookie: planted=1",
        "/console/queue\nX: y",
        "//elsewhere.example/console",
        "/console//elsewhere.example",
        "/console/../elsewhere",
        "/console\\@elsewhere.example",
        "https://elsewhere.example/console",
        "javascript:alert(1)",
    ],
)
def test_log_in_goes_only_to_a_local_console_path(app, users, target):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login",
        data={"name": "csr", "password": users["csr"], "csrf_token": token, "next": target},
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/console/dashboard"


def test_log_in_goes_back_to_the_page_asked_for(app, users):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login",
        data={
            "name": "csr",
            "password": users["csr"],
            "csrf_token": token,
            "next": "/console/lookup?by=agent&q=1001",
        },
    )
    assert reply.headers["Location"] == "/console/lookup?by=agent&q=1001"


def test_an_action_goes_back_only_to_a_local_console_path(app, users, phone):
    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    token = csrf_of(client.get(f"/console/transactions/{code}").get_data(as_text=True))
    reply = client.post(
        f"/console/transactions/{code}/close",
        data={"reason": "", "csrf_token": token, "back": "/console/queue\r\nX: y"},
    )
    assert reply.status_code == 302
    assert reply.headers["Location"] == f"/console/transactions/{code}"


def _post(client, url, **form):  # type: ignore[no-untyped-def]
    return client.post(url, data=form)


def test_an_incoming_call_s_webhook_posted_to_the_call_back_is_refused(app, phone, services):
    call = log_on(phone)
    new_transaction(call)  # now at the ESN step, which a call-back does not have
    client = app.test_client()
    with services.db.read() as session:
        seq = session.get(Call, call.sid).seq
    reply = _post(client, f"/voice/callback/gather?n={seq}", CallSid=call.sid, Digits="1")
    assert reply.status_code == 409
    reply = _post(client, "/voice/callback?tx=12345678", CallSid=call.sid)
    assert reply.status_code == 409
    with services.db.read() as session:
        assert session.get(Call, call.sid).step == "esn"


def test_a_call_back_s_webhook_posted_to_the_incoming_flow_is_refused(app, phone, services):
    code = new_transaction(log_on(phone))
    client = app.test_client()
    sid = "CA" + "c" * 32
    reply = _post(client, f"/voice/callback?tx={code}", CallSid=sid, To="+15005550006")
    assert reply.status_code == 200 and "agent I D" in reply.get_data(as_text=True)
    for url in ("/voice/gather?n=1", "/voice", "/voice/status"):
        reply = _post(client, url, CallSid=sid, Digits="1001", CallStatus="completed")
        assert reply.status_code == 409, url
    with services.db.read() as session:
        call = session.get(Call, sid)
        assert (call.step, call.seq, call.direction) == ("agent_id", 1, "outbound-api")


@pytest.mark.parametrize("sid", ["", "CA" + "x" * 60, "CA-1", "CA\u00e91"])
def test_a_webhook_without_a_call_sid_is_refused(app, sid):
    reply = app.test_client().post("/voice", data={"CallSid": sid})
    assert reply.status_code == 400


@pytest.mark.parametrize("n", ["", "x", "١", "-1", "1e3", "9" * 30])
def test_a_gather_without_its_answer_number_is_refused(app, n):
    reply = app.test_client().post(f"/voice/gather?n={n}", data={"CallSid": "CA" + "1" * 32})
    assert reply.status_code == 400


def test_bodies_past_the_size_limit_are_refused_before_they_are_parsed(app, api_key, services):
    client = app.test_client()
    big = "x" * (2 * 1024 * 1024)
    assert client.post("/voice", data={"CallSid": "CA1", "From": big}).status_code == 413
    assert client.post("/console/login", data={"name": big}).status_code == 413
    reply = client.post(
        "/api/transactions",
        data=json.dumps({"agent": "1001", "pin": "2468", "pad": big}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert reply.status_code == 413 and "error" in reply.get_json()
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0


@pytest.mark.parametrize("depth", [9, 1000, 100_000])
def test_deeply_nested_json_is_refused(app, api_key, depth):
    body = '{"agent": "1001", "pin": "2468", "x": ' + "[" * depth + "]" * depth + "}"
    reply = app.test_client().post(
        "/api/transactions",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert reply.status_code == 400 and "nested" in reply.get_json()["error"]


def test_a_nul_character_is_refused_in_any_field(app, admin, services):
    client, token = admin
    with services.db.read() as session:
        audited = session.scalar(select(func.count()).select_from(AuditEntry))
    reply = client.post(
        "/console/admin/rate-plans",
        data={"code": "78", "name": "a\x00b", "monthly_dollars": "1", "csrf_token": token},
    )
    assert reply.status_code == 400
    assert (
        app.test_client().post("/voice", data={"CallSid": "CA1", "From": "\x00"}).status_code == 400
    )
    with services.db.read() as session:
        assert session.get(RatePlan, "78") is None
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited
