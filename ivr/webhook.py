"""What every Twilio webhook carries, read the same way by the incoming call and the call-back."""

from __future__ import annotations

import re

from flask import Response, abort, request

from activation.call.engine import OtherFlow
from activation.keyed import whole_number

# Twilio's call SIDs are CA and 32 hex digits; the softphone's and the API's are alike.
_CALL_SID = re.compile(r"[A-Za-z0-9]{2,40}")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def call_sid() -> str:
    """Return the webhook's CallSid, or answer 400 when it is missing or not a SID."""
    sid = request.form.get("CallSid", "")
    if not _CALL_SID.fullmatch(sid):
        abort(400, description="CallSid missing or not a call SID")
    return sid


def answer_number() -> int:
    """Return the answer number n of a gather's URL, or answer 400."""
    seq = whole_number(request.args.get("n", ""), 0, 2**31 - 1)
    if seq is None:
        abort(400, description="answer number n missing or not a number")
    return seq


def printable(value: str) -> str:
    """Return a number as Twilio sends it (From, To) as plain text that fits a call's row."""
    return _PRINTABLE.sub("", value)[:20]


def caller() -> str:
    """Return the caller's number (From)."""
    return printable(request.form.get("From", ""))


def other_flow(error: OtherFlow) -> Response:
    """Refuse a webhook for a call of the other flow (a call-back's SID posted as incoming)."""
    return Response(str(error), status=409, mimetype="text/plain")
