"""Accept a webhook only with a valid X-Twilio-Signature when an auth token is configured."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request
from twilio.request_validator import RequestValidator


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
    validator = RequestValidator(auth_token)
    return validator.validate(signed_url(request, public_url), request.form.to_dict(), signature)
