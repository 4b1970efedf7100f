"""gunicorn's own log lines (the access log above all) through CAS's redaction.

An access line holds the request's path and query: a console look-up by SSN, or a token in a
query string, would otherwise reach the log as sent. `cas serve` names this class with
--logger-class.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ivr.logging_json import RedactingFilter


class RedactingLogger(Logger):
    """gunicorn's logger, with CAS's redacting filter on its error and access logs."""

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then scrub every record they are given."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactingFilter) for f in log.filters):
                log.addFilter(RedactingFilter())
