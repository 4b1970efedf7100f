"""What an activity type is: prepare in a transaction, perform outside one, apply in another.

A job may also have `failed(session, activity, error)`, called in the worker's transaction when
the activity has spent its attempts (an order's work holds the order for a CSR then).

The outside call (`perform`) runs with no database transaction open, so a slow switch or
bureau never holds a lock. `apply` runs with the activity's transaction row locked first
(the worker takes it), then the activity's own row: every entry point locks in that order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from activation.services import Services
from activation.store.models import Activity


class Job(Protocol):
    """One activity type."""

    # None: done when apply returns. Otherwise the time the outside party has to report the
    # outcome (a call-back's call status) before the attempt counts as failed.
    awaits_report: timedelta | None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any: ...

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]: ...

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None: ...
