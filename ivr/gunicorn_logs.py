"""gunicorn's own log lines (start, workers, access) in the format of the app's lines."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ivr.log_setup import formatter
from ivr.logging_json import RedactingFilter


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, formatting as CAS_LOG_FORMAT says and redacting as CAS does."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter())
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())
