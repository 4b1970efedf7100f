"""Flask's signed-cookie sessions, opened without building a signer for a request with no cookie.

Only the console keeps a session, yet Flask opens one for every request, and its opening
builds the cookie's serializer before looking for the cookie: a Twilio webhook, which never
carries the console's cookie, paid for a signer it never used. A request without the cookie
gets the same empty session Flask would have given it.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's own session interface, with the cookie looked for first."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
