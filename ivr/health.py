"""GET /healthz: 200 when the app and its database answer."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 when the database answers, 503 otherwise."""
    services = current_app.extensions["cas"]
    try:
        with services.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure makes the app unhealthy
        return {"status": "database unavailable", "error": type(exc).__name__}, 503
    return {"status": "ok"}, 200
