"""Log lines as JSON, carrying the transaction code, and never an SSN or a PIN.

A redacting filter sits on the handler, so every record is scrubbed whichever logger wrote it
(gunicorn's access log too: ivr.gunicorn_logs): a run of exactly nine digits standing alone
(an SSN or tax id, plain, dashed or spoken digit by digit) and the value of any pin, password,
ssn, Digits, token or secret field are replaced before the line is written. Digits inside a
word are left alone, so identifiers stay whole and searchable: a CallSid (CA and 32 hex), an
API session id, a transaction code (8 digits), a MID (10), an ESN (11) or an IMEI (15).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

_transaction: ContextVar[str | None] = ContextVar("cas_transaction", default=None)

# Digits joined by at most two separators, "123456789", "123-45-6789", "1 2 3, 4 5, 6 7 8 9",
# and not part of a longer word (the hex of a CallSid holds nine-digit runs too); a URL's
# %-escape ("q%3D123456789") is a separator.
_DIGIT_RUN = re.compile(
    r"(?:(?<![^\W_])|(?<=%[0-9A-Fa-f]{2}))\d(?:[ ,.\-]{0,2}\d)*(?:(?![^\W_])|(?=%[0-9A-Fa-f]{2}))"
)
_SECRET_FIELD = re.compile(
    r"(?i)(?<![a-z0-9])(pin|password|passwd|ssn|tax_id|digits|api[_-]?key|csrf_token|token"
    r"|auth_token|secret|logon_secret|cas_console|cas_device)(\W{0,3}?)([=:]\s*|\s+is\s+)"
    r"(\[redacted\]|\"[^\"]*\"|'[^']*'|[^\s&,;}\]]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+|cas_[0-9a-f]{8}_)[A-Za-z0-9._~+/=-]+")
MASK = "[redacted]"
# Set on a record whose message the filter has scrubbed, so nothing scrubs it twice.
_SCRUBBED = "_cas_scrubbed"
# Attributes every LogRecord has; anything else was passed as `extra` and is logged too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """Remove SSN-like digit runs and secret field values from a text."""
    text = _SECRET_FIELD.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m[1]}{MASK}", text)
    return _DIGIT_RUN.sub(_mask_nine, text)


def _mask_nine(match: re.Match[str]) -> str:
    run = match[0]
    return MASK if sum(ch not in " ,.-" for ch in run) == 9 else run


def bind_transaction(code: str | None) -> None:
    """Name the transaction the current request or job works on, for every line it logs."""
    _transaction.set(code)


def current_transaction() -> str | None:
    """Return the transaction code bound to the current context."""
    return _transaction.get()


class RedactingFilter(logging.Filter):
    """Scrub a record's message and arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, _SCRUBBED, False):  # a second handler's filter: done already
            record.msg = redact(record.getMessage())
            record.args = None
            setattr(record, _SCRUBBED, True)
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": (
                record.getMessage()
                if getattr(record, _SCRUBBED, False)
                else redact(record.getMessage())  # a handler without the filter
            ),
        }
        code = getattr(record, "tx", None) or current_transaction()
        if code:
            line["tx"] = str(code)
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "tx" and not key.startswith("_"):
                line[key] = redact(value) if isinstance(value, str) else _plain(value)
        if record.exc_info:
            line["exc"] = redact("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(line, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def install(level: int = logging.INFO, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log line to stream (stderr) as redacted JSON, instead of plain text."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    # Plain console handlers (basicConfig's, or an earlier install) give way; handlers of other
    # kinds (files, a test runner's capture) stay.
    for old in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def init_app(app: Any) -> None:
    """Log as CAS_LOG_FORMAT says (JSON by default) when serving, not under test."""
    from ivr.log_setup import configure

    if not app.testing:
        configure(app.config.get("CAS_LOG_FORMAT"), logging.DEBUG if app.debug else logging.INFO)
