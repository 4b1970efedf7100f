"""How each CAS process logs: one format per stream, and no library chatter.

Servers (`cas serve`, `cas worker`) write JSON lines to stderr, or plain text lines with
CAS_LOG_FORMAT=text; commands a person runs write plain text, warnings only unless -v. Either
way every line passes the redacting filter, and the libraries that narrate their routine
(migrations run, jobs added, each HTTP request) speak only of trouble.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import IO

from ivr.logging_json import JsonFormatter, RedactingFilter

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Their INFO lines say only that routine things happened.
QUIET = ("alembic", "apscheduler", "werkzeug", "urllib3", "twilio.http_client", "httpx")


def chosen_format(fmt: str | None = None) -> str:
    """Return `json` or `text`: the one asked for, else CAS_LOG_FORMAT, else json."""
    wanted = (fmt or os.environ.get("CAS_LOG_FORMAT") or "json").lower()
    return "text" if wanted == "text" else "json"


def formatter(fmt: str | None = None) -> logging.Formatter:
    """Return the formatter of a log format."""
    return JsonFormatter() if chosen_format(fmt) == "json" else logging.Formatter(TEXT)


def configure(
    fmt: str | None = None, level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log line of this process to one stream (stderr) in one format."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RedactingFilter())
    # Console handlers set earlier give way; handlers of other kinds (files, a test runner's
    # capture) stay.
    for old in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler
