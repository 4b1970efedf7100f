"""Fixtures of the hostile-input tests: the console's and the call flow's, shared."""

from __future__ import annotations

from ..console.conftest import api_key, app, live, users  # noqa: F401
from ..flow.conftest import phone, switches  # noqa: F401


def key_anything(call, entry: str) -> str:  # type: ignore[no-untyped-def]
    """Post any text as the Digits of the waiting prompt (a phone could not; a forger could)."""
    gather = call._waiting()
    fields = {"Digits": entry, "FinishedOnKey": "#"}
    return call._step(lambda: call._fetch_and_run("POST", gather.action, fields))
