"""What every request and response of the app is held to: sizes, characters and headers.

A webhook, a console form and an API body are all small: anything past MAX_BODY is refused
(413) before it is parsed. A NUL character belongs in no field (PostgreSQL refuses it in text),
so a request carrying one is refused (400). Every response tells the browser not to frame it,
not to guess its type and to run only the console's own script and style; console pages, which
show personal data and sometimes a secret once, are never stored by a cache.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

MAX_BODY = 1024 * 1024
# The console's pages: one script and one style sheet of its own, charts drawn inline as SVG,
# the escalation list refreshed by fetch() from the same origin. Nothing inline runs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


def _no_nul() -> None:
    for values in (request.args, request.form if request.mimetype != "application/json" else {}):
        for value in values.values():
            if "\x00" in value:
                abort(400, description="a field holds a NUL character")


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.blueprint == "console":
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, https: bool) -> None:
    """Limit request sizes and add the security headers to every response."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default: no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(_no_nul)
    app.after_request(_headers)
    if https:
        app.after_request(_strict_transport)


def _strict_transport(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
