"""What a phone can key and what a person types as a number, checked in one place.

A touch-tone phone has twelve keys: the ASCII digits 0-9, '*' and '#'. Python's str.isdigit(),
isdecimal() and the regex class \\d accept the digits of every script ('²', '৭', '٣'): no phone
sends them, int() reads some and not others, and a switch refuses them all. The call, the
console and the API check keyed values here and nowhere else, and numbers typed in a form are
read here with their bounds, so 'inf', '1e309' or a thirty-digit id never reach the database.
"""

from __future__ import annotations

import re

DIGITS = "0123456789"
KEYS = DIGITS + "*#"

_WHOLE = re.compile(r"-?[0-9]{1,12}")
_DOLLARS = re.compile(r"\$?([0-9]{1,9})(?:\.([0-9]{1,2}))?")


def is_digits(text: object, min_len: int = 1, max_len: int | None = None) -> bool:
    """Tell whether text is ASCII digits only, between min_len and max_len of them."""
    if not isinstance(text, str) or not min_len <= len(text) <= (max_len or len(text)):
        return False
    return all(ch in DIGITS for ch in text)


def is_keys(text: object, max_len: int | None = None) -> bool:
    """Tell whether text is one or more of the phone's twelve keys: 0-9, '*' and '#'."""
    if not isinstance(text, str) or not 1 <= len(text) <= (max_len or len(text)):
        return False
    return all(ch in KEYS for ch in text)


def whole_number(text: str, low: int, high: int) -> int | None:
    """Read a whole number typed in a form, or None when it is not one between low and high."""
    text = text.strip()
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def cents(text: str, high_cents: int) -> int | None:
    """Read an amount of dollars ('12', '12.5', '$12.50') as cents, or None when out of 0..high."""
    found = _DOLLARS.fullmatch(text.strip())
    if found is None:
        return None
    value = int(found[1]) * 100 + int((found[2] or "0").ljust(2, "0"))
    return value if value <= high_cents else None
