"""Every console view demands a log-in and a role, and every form a CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activation.queue import activities
from activation.store.models import Activity, AuditEntry

from .conftest import csrf_of, log_in

# GET pages and the least role that may see them.
PAGES = {
    "/console/dashboard": "csr",
    "/console/escalations": "csr",
    "/console/escalations/rows": "csr",
    "/console/lookup?by=agent&q=1001": "csr",
    "/console/queue": "csr",
    "/console/inventory": "csr",
    "/console/inventory/sales": "csr",
    "/console/billing": "supervisor",
    "/console/admin/agents": "admin",
    "/console/admin/agents/1001": "admin",
    "/console/admin/agents/1001/stock": "admin",
    "/console/admin/rate-plans": "admin",
    "/console/admin/switches": "admin",
    "/console/admin/deposits": "admin",
    "/console/admin/users": "admin",
}
RANK = {"csr": 0, "supervisor": 1, "admin": 2}


def test_every_console_view_is_guarded_by_a_role(app):
    guarded = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console."):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "public", False):
            continue
        guarded[rule.endpoint] = getattr(view, "required_role", None)
    assert len(guarded) > 25
    assert None not in guarded.values(), [e for e, r in guarded.items() if r is None]
    assert guarded["console.retry"] == guarded["console.billing_insert"] == "supervisor"
    assert guarded["console.unlock_agent"] == "admin"


def test_anonymous_users_are_sent_to_log_in(app):
    client = app.test_client()
    for page in PAGES:
        reply = client.get(page)
        assert reply.status_code == 302 and "/console/login" in reply.headers["Location"], page
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post("/console/queue/1/retry", data={"csrf_token": token, "reason": "x"})
    assert reply.status_code == 401


@pytest.mark.parametrize("role", ["csr", "supervisor", "admin"])
def test_each_role_sees_its_pages_and_is_refused_the_others(app, users, role):
    client = app.test_client()
    log_in(client, role, users[role])
    for page, needed in PAGES.items():
        reply = client.get(page)
        expected = 200 if RANK[role] >= RANK[needed] else 403
        assert reply.status_code == expected, (role, page, reply.status_code)
    nav = client.get("/console/dashboard").get_data(as_text=True)
    assert ('href="/console/billing"' in nav) is (role != "csr")
    assert ('href="/console/admin/agents"' in nav) is (role == "admin")


def test_a_csr_is_refused_supervisor_and_admin_actions(app, services, users):
    with services.db.transaction() as session:
        activity = activities.enqueue(session, "billing_record", {}, target="billing")
        activity.state = "failed"
        activity_id = activity.id
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    token = csrf_of(client.get("/console/queue").get_data(as_text=True))
    page = client.get("/console/queue").get_data(as_text=True)
    assert f"activity-{activity_id}" in page and ">Retry<" not in page
    refused = [
        (f"/console/queue/{activity_id}/retry", {"reason": "try again"}),
        (f"/console/queue/{activity_id}/remove", {"reason": "drop it"}),
        ("/console/billing/insert", {"transaction_code": "12345678", "mid": "7135550001"}),
        ("/console/billing/delete", {"transaction_code": "12345678", "reason": "x"}),
        ("/console/admin/agents/1003/unlock", {}),
        ("/console/admin/agents/1001/pin", {"pin": "1234"}),
        ("/console/admin/deposits/1/delete", {}),
    ]
    for url, form in refused:
        assert client.post(url, data={**form, "csrf_token": token}).status_code == 403, url
    with services.db.transaction() as session:
        assert session.get(Activity, activity_id).state == "failed"
        assert session.scalar(select(AuditEntry).where(AuditEntry.entity == "activity")) is None


def test_forms_without_the_session_token_are_refused(app, services, users):
    client = app.test_client()
    reply = client.post("/console/login", data={"name": "admin", "password": users["admin"]})
    assert reply.status_code == 400
    log_in(client, "admin", users["admin"])
    reply = client.post("/console/admin/agents/1003/unlock", data={"csrf_token": "forged"})
    assert reply.status_code == 400
    reply = client.post("/console/admin/agents/1003/unlock")
    assert reply.status_code == 400
    other = app.test_client()
    log_in(other, "csr", users["csr"])
    stolen = csrf_of(other.get("/console/queue").get_data(as_text=True))
    assert (
        client.post("/console/admin/agents/1003/unlock", data={"csrf_token": stolen}).status_code
        == 400
    )


def test_log_in_only_returns_to_console_pages(app, users):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login",
        data={
            "name": "csr",
            "password": users["csr"],
            "csrf_token": token,
            "next": "https://elsewhere.example/steal",
        },
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/console/dashboard"


def test_the_session_cookie_is_http_only_and_same_site(app, users):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login", data={"name": "csr", "password": users["csr"], "csrf_token": token}
    )
    [cookie] = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith("cas_console=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
