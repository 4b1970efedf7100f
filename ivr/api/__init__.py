"""The activation API: partners activate by machine through the same call flow, with API keys."""

from __future__ import annotations

from flask import Flask

from activation.service_layer.api_sessions import ApiFlow
from activation.services import Services
from ivr.api.views import make_blueprint


def init_app(app: Flask, services: Services) -> None:
    """Mount the API on the app."""
    app.extensions["cas.api"] = ApiFlow(services)
    app.register_blueprint(make_blueprint())


__all__ = ["init_app"]
