"""The CSR console: escalations, look-up, queue, billing, reference data and the dashboard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from activation.services import Services
from ivr.console import auth, forms, present
from ivr.console.sessions import ConsoleSessions
from ivr.console.users import ensure_demo_users

ROLE_NAMES = {"csr": "CSR", "supervisor": "Supervisor", "admin": "Admin"}


def _before() -> None:
    auth.load_user()
    if request.method == "POST":
        auth.check_csrf()


def _refused(error: HTTPException) -> Any:
    return render_template("console/error.html", error=error), error.code or 500


def _page_helpers() -> dict[str, Any]:
    return {
        "user": g.get("user"),
        "role_names": ROLE_NAMES,
        "step_words": present.step_words,
        "activity_words": present.activity_words,
        "kind_words": present.kind_words,
        "agent_words": present.agent_words,
    }


def make_blueprint() -> Blueprint:
    """Build the console blueprint with every view, each guarded by the role it needs."""
    from ivr.console import (
        agent_stock_views,
        billing_views,
        dashboard_views,
        escalation_views,
        inventory_views,
        line_views,
        lookup_views,
        queue_views,
        reference_views,
        user_views,
    )

    bp = Blueprint("console", __name__, url_prefix="/console")
    bp.before_request(_before)
    bp.register_error_handler(HTTPException, _refused)
    bp.context_processor(_page_helpers)
    auth.register(bp)
    for module in (
        dashboard_views,
        escalation_views,
        lookup_views,
        line_views,
        queue_views,
        inventory_views,
        billing_views,
        reference_views,
        agent_stock_views,
        user_views,
    ):
        module.register(bp)
    return bp


def init_app(app: Flask, services: Services) -> None:
    """Mount the console on the app, with a session key derived from the master secret."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = services.vault.lookup_hash("cas-console-session-key")
    # The console is the only user of Flask's session: its cookie, never sent cross-site.
    app.config.update(
        SESSION_COOKIE_NAME="cas_console",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=services.settings.public_url.lower().startswith("https://"),
    )
    app.session_interface = ConsoleSessions()
    # A global, not a context value: macros imported by the pages see globals only.
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
    app.url_map.converters["id"] = forms.RowId
    app.register_blueprint(make_blueprint())


__all__ = ["ensure_demo_users", "init_app", "make_blueprint"]
