"""Numbers typed in the console's forms, read with their bounds (a refusal names the field)."""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

from activation.keyed import cents, whole_number
from activation.service_layer.csr import Refused

# Ids and counts fit a 32-bit column on every engine.
LARGEST_ID = 2**31 - 1


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def number(name: str, low: int, high: int, default: int | None = None) -> int:
    """Read a whole number from the form; Refused when it is not one between low and high."""
    raw = request.form.get(name, "")
    if not raw.strip() and default is not None:
        return default
    value = whole_number(raw[:20], low, high)
    if value is None:
        raise Refused(f"{_label(name)} must be a whole number from {low} to {high}")
    return value


def dollars(name: str, high_cents: int) -> int:
    """Read an amount of dollars from the form as cents; Refused when it is not one."""
    raw = request.form.get(name, "") or "0"
    value = cents(raw[:20], high_cents)
    if value is None:
        most = f"{high_cents / 100:,.2f}"
        raise Refused(f"{_label(name)} must be an amount of dollars from 0 to {most}")
    return value


class RowId(IntegerConverter):
    """A row id in a URL (<id:name>): 1 to 10 ASCII digits, at most LARGEST_ID, else 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(map, max=LARGEST_ID)
