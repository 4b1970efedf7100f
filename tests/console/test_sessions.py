"""The console's session: opened from its cookie, and no signer built for a request without one."""

from __future__ import annotations

from flask import session

from ivr.console.sessions import ConsoleSessions


def test_a_request_without_the_cookie_builds_no_signer_and_one_with_it_is_read(app, monkeypatch):
    sessions = app.session_interface
    assert isinstance(sessions, ConsoleSessions)
    cookie = sessions.get_signing_serializer(app).dumps({"user": "csr"})
    built = []
    real = ConsoleSessions.get_signing_serializer

    def counted(self, flask_app):  # type: ignore[no-untyped-def]
        built.append(1)
        return real(self, flask_app)

    monkeypatch.setattr(ConsoleSessions, "get_signing_serializer", counted)
    with app.test_request_context("/voice/gather?n=1", method="POST"):
        assert dict(session) == {} and not built  # a webhook: Flask opened an empty session
    headers = {"Cookie": f"cas_console={cookie}"}
    with app.test_request_context("/console/", headers=headers):
        assert session.get("user") == "csr" and built
    with app.test_request_context("/console/", headers={"Cookie": "cas_console=forged"}):
        assert dict(session) == {}  # a cookie that fails its signature opens an empty session
