"""The web layer: Twilio's webhooks answered with TwiML, and the health check."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from activation.call.engine import CallFlow
from activation.services import Services
from activation.settings import Settings
from ivr.bootstrap import bootstrap


def create_app(config: dict[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    if services is None:
        services = bootstrap(app.config.get("CAS_SETTINGS") or Settings.from_env())
    app.extensions["cas"] = services
    hops = services.settings.trusted_proxies
    if hops:
        # Behind a TLS proxy the URL Twilio signed is the public https one: believe the
        # X-Forwarded-* headers of that many proxies, and no more (a client could forge them).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.extensions["cas.callflow"] = CallFlow(services)

    from . import callback_voice, health, media, voice

    app.register_blueprint(voice.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(callback_voice.bp)
    app.register_blueprint(health.bp)

    from . import api, console, guards, logging_json, metrics

    guards.init_app(app, https=services.settings.public_url.lower().startswith("https://"))
    console.init_app(app, services)
    api.init_app(app, services)
    metrics.init_app(app, services)
    logging_json.init_app(app)
    return app
