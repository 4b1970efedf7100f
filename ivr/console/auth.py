"""Console log-in: session cookie, CSRF token on every form, roles checked on every view."""

from __future__ import annotations

import hmac
import re
import secrets
import time
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

from activation.service_layer.staff import ConsoleUser, authenticate
from activation.services import Services
from activation.store import audit

# A console session ends after this long, logged in or not.
SESSION_SECONDS = 12 * 3600
F = TypeVar("F", bound=Callable[..., Any])


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
    """Find the logged-in user of this request, fresh from the database."""
    g.user = None
    user_id, since = session.get("user_id"), session.get("since", 0)
    if user_id is None:
        return
    if time.time() - since > SESSION_SECONDS:
        session.clear()
        return
    with services().db.read() as db:
        user = db.get(ConsoleUser, user_id)
        if user is not None and user.active:
            db.expunge(user)
            g.user = user


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
            return render_template("console/login.html", next=request.args.get("next", ""))
        name = request.form.get("name", "").strip()[:40]
        password = request.form.get("password", "")[:200]
        with services().db.transaction() as db:
            user = authenticate(db, name, password)
            if user is None:
                audit.record(db, "console_user", name or "?", None, "refused", "console", "log-in")
            else:
                audit.record(db, "console_user", name, None, "logged_in", name, "log-in")
                user_id = user.id
        if user is None:
            flash("That name and password do not match, or the account is locked.", "error")
            return render_template("console/login.html", next=request.form.get("next", "")), 401
        # A fresh session on log-in, so a token planted before it is worth nothing after.
        session.clear()
        session["user_id"], session["since"] = user_id, time.time()
        csrf_token()
        return redirect(_safe_next(request.form.get("next")))

    @bp.post("/logout")
    def logout() -> Any:
        """Log the user out."""
        session.clear()
        return redirect(url_for("console.login"))

    login.public = True  # type: ignore[attr-defined]
    logout.public = True  # type: ignore[attr-defined]
