"""How numbers are spoken: digit by digit, grouped the way people say them."""

from __future__ import annotations

import json
from functools import cache

from activation.settings import DATA_DIR


def digits(value: str, groups: tuple[int, ...] = ()) -> str:
    """Speak a number digit by digit, with a pause between groups."""
    parts: list[str] = []
    start = 0
    for size in groups:
        parts.append(value[start : start + size])
        start += size
    parts.append(value[start:])
    return ", ".join(" ".join(part) for part in parts if part)


def phone_number(mid: str) -> str:
    """Speak a 10-digit MID as NPA, NXX, line."""
    return digits(mid, (3, 3))


def dollars(cents: int) -> str:
    """Speak an amount of money."""
    whole, rest = divmod(cents, 100)
    return f"{whole} dollars" if rest == 0 else f"{whole} dollars and {rest} cents"


@cache
def prompts(language: str = "en") -> dict[str, str]:
    """Return the voice prompts of data/prompts."""
    return json.loads((DATA_DIR / "prompts" / f"{language}.json").read_text())


def say(key: str, **values: str) -> str:
    """Return one prompt with its values filled in."""
    return prompts()[key].format(**values)
