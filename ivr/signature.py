"""Accept a webhook only with a valid X-Twilio-Signature when an auth token is configured.

Twilio signs the URL it called. Behind a proxy that is not the URL the app sees unless
CAS_PUBLIC_URL names it or CAS_TRUSTED_PROXIES lets the X-Forwarded-* headers rebuild it; a
refusal logs the URL that was checked, since a mismatch there is the usual cause.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse, urlsplit

from flask import Request, abort
from twilio.request_validator import RequestValidator, add_port, compare, remove_port

from activation.settings import Settings

log = logging.getLogger("cas.ivr.signature")


def signed_url(request: Request, public_url: str) -> str:
    """Return the URL Twilio signed: the public base URL plus the path and query.

    Behind a proxy the URL Flask sees is not the one Twilio called, so CAS_PUBLIC_URL wins.
    """
    if not public_url:
        return request.url
    path = request.full_path if request.query_string else request.path
    base = public_url.rstrip("/")
    prefix = urlsplit(base).path
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return base + path


def is_valid(request: Request, auth_token: str, public_url: str) -> bool:
    """Tell whether the request carries Twilio's signature over its URL and form."""
    if not auth_token:
        return True
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    # Twilio signs the URL with or without its port, as RequestValidator.validate allows; that
    # computes both HMACs every time, where the form that verifies first settles it.
    validator, form = RequestValidator(auth_token), request.form.to_dict()
    parsed = urlparse(signed_url(request, public_url))
    return any(
        compare(validator.compute_signature(url, form), signature)
        for url in (remove_port(parsed), add_port(parsed))
    )


def require(request: Request, settings: Settings) -> None:
    """Answer 403 to a webhook without a valid signature, logging which URL was checked."""
    if is_valid(request, settings.twilio_auth_token, settings.public_url):
        return
    if settings.public_url:
        source = "CAS_PUBLIC_URL"
    elif settings.trusted_proxies:
        source = f"the request as {settings.trusted_proxies} trusted proxy hop(s) forwarded it"
    else:
        source = "the request as received; set CAS_PUBLIC_URL or CAS_TRUSTED_PROXIES behind a proxy"
    problem = "invalid" if request.headers.get("X-Twilio-Signature") else "missing"
    log.warning(
        "webhook refused: %s X-Twilio-Signature; the URL checked was %s (from %s)",
        problem,
        signed_url(request, settings.public_url),
        source,
        extra={"checked_url": signed_url(request, settings.public_url), "path": request.path},
    )
    abort(403, description="invalid X-Twilio-Signature")
