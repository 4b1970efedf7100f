"""Console log-in: a session row named by the cookie, CSRF token on every form, roles on every view.

Flask's signed cookie carries the CSRF token, the flashed messages and the token of the
console session (a row: activation.service_layer.console_access); the row decides whether the
user is logged in, so log-out or a password change ends a session even if its cookie was kept.
A second cookie, cas_device, remembers that this browser logged in as a user before: its
failed log-ins count against itself rather than the account (see console_access).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer

from activation.service_layer import console_access
from activation.services import Services

F = TypeVar("F", bound=Callable[..., Any])
DEVICE_COOKIE = "cas_device"
DEVICE_DAYS = 180
# Pages fetched by the console's own script (the escalation list refreshing itself): they are
# not a person's activity, so they do not keep a session from idling out.
UNATTENDED = {"console.escalation_rows"}


def services() -> Services:
    """Return the services of the running app."""
    return current_app.extensions["cas"]


def csrf_token() -> str:
    """Return the session's CSRF token, creating it on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    """Refuse a form that does not carry the session's CSRF token."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form is stale or forged (CSRF token missing or wrong).")


def load_user() -> None:
    """Find the logged-in user of this request: the session row must hold, the user be active."""
    g.user = None
    token = session.get("sid")
    if not isinstance(token, str):
        return
    touch = request.endpoint not in UNATTENDED
    g.user = console_access.session_user(services().db, token, touch=touch)
    if g.user is None:
        session.pop("sid", None)


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="cas-console-device")


def _device_for(name: str) -> str | None:
    """The id of this browser if it logged in as this user before (its cookie is ours)."""
    try:
        known = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return None
    if not isinstance(known, dict) or known.get("user") != name.strip().lower():
        return None
    device = known.get("id")
    return device if isinstance(device, str) and len(device) <= 64 else None


def _remember_device(response: Any, name: str, device: str | None) -> None:
    value = _devices().dumps({"user": name.lower(), "id": device or secrets.token_urlsafe(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_DAYS * 86400,
        path=url_for("console.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )


def requires(role: str) -> Callable[[F], F]:
    """Let a view run only for a logged-in user holding the role (or a higher one)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                if request.method != "GET":
                    abort(401, description="Log in first.")
                return redirect(url_for("console.login", next=request.full_path))
            if not g.user.may(role):
                abort(403, description=f"This needs the {role} role.")
            return view(*args, **kwargs)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


# A path of this console and its query, in URL characters only: no scheme, no host, no
# backslash, no CR/LF (a header cannot carry one), nothing that climbs out of /console.
_LOCAL_PATH = re.compile(
    r"/console(?:/[\w.~!$&'()*+,;=:@%-]*)*(?:\?[\w.~!$&'()*+,;=:@%/?-]*)?", re.A
)


def local_path(target: str | None) -> str | None:
    """Return target if it is a page of this console to go back to, else None."""
    if not target or len(target) > 500 or not _LOCAL_PATH.fullmatch(target):
        return None
    if "//" in target or "/.." in target or "%2f" in target.lower() or "%5c" in target.lower():
        return None
    return target


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("console.dashboard")


def register(bp: Blueprint) -> None:
    """Add the log-in and log-out views to the console blueprint."""

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        """Log a console user in."""
        if request.method == "GET":
            return render_template(
                "console/login.html", next=local_path(request.args.get("next")) or ""
            )
        name = request.form.get("name", "").strip()[:40]
        password = request.form.get("password", "")[:200]
        device = _device_for(name)
        try:
            opened = console_access.log_in(
                services().db, name, password, request.remote_addr or "?", device
            )
        except console_access.LogInRefused as refused:
            flash(str(refused), "error")
            page = render_template(
                "console/login.html", next=local_path(request.form.get("next")) or ""
            )
            if refused.retry_after is None:
                return page, 401
            return page, 429, {"Retry-After": str(refused.retry_after)}
        # A fresh session on log-in, so a token planted before it is worth nothing after.
        session.clear()
        session["sid"] = opened.token
        csrf_token()
        response = redirect(_safe_next(request.form.get("next")))
        _remember_device(response, opened.name, device)
        return response

    @bp.post("/logout")
    def logout() -> Any:
        """Log the user out: the session row ends, so a kept copy of the cookie is worthless."""
        token = session.get("sid")
        if isinstance(token, str):
            console_access.log_out(services().db, token)
        session.clear()
        return redirect(url_for("console.login"))

    login.public = True  # type: ignore[attr-defined]
    logout.public = True  # type: ignore[attr-defined]
