"""Console pages are not framed, not cached, run only their own script; the cookie is Secure
behind https."""

from __future__ import annotations

import dataclasses

from ivr import create_app

from ..console.conftest import csrf_of, log_in


def _guarded(reply) -> None:  # type: ignore[no-untyped-def]
    policy = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "same-origin"


def test_every_console_page_carries_the_security_headers(app, users):
    client = app.test_client()
    login = client.get("/console/login")
    _guarded(login)
    assert login.headers["Cache-Control"] == "no-store"
    log_in(client, "admin", users["admin"])
    for page in ("/console/dashboard", "/console/escalations", "/console/admin/users"):
        reply = client.get(page)
        _guarded(reply)
        assert reply.headers["Cache-Control"] == "no-store", page
    _guarded(client.get("/console/escalations/999"))  # an error page too


def test_pages_that_show_a_secret_once_are_never_stored(app, users):
    client = app.test_client()
    log_in(client, "admin", users["admin"])
    token = csrf_of(client.get("/console/admin/users").get_data(as_text=True))
    shown = [
        client.post(
            "/console/admin/users", data={"name": "newcsr", "role": "csr", "csrf_token": token}
        ),
        client.post("/console/admin/users/csr/password", data={"csrf_token": token}),
        client.post("/console/admin/api-keys", data={"partner": "acme", "csrf_token": token}),
        client.post("/console/admin/agents/1001/pin", data={"pin": "", "csrf_token": token}),
    ]
    for reply in shown:
        assert reply.status_code == 200 and 'class="pin"' in reply.get_data(as_text=True)
        assert reply.headers["Cache-Control"] == "no-store"
        _guarded(reply)


def test_the_session_cookie_is_secure_when_the_public_url_is_https(services, users):
    services.settings = dataclasses.replace(services.settings, public_url="HTTPS://cas.example")
    app = create_app({"TESTING": True}, services=services)
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(
        "/console/login", data={"name": "csr", "password": users["csr"], "csrf_token": token}
    )
    cookies = reply.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies), cookies
    assert "Strict-Transport-Security" in reply.headers
