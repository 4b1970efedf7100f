"""How numbers are spoken: digit by digit, grouped the way people say them, in the call's language.

The language is the call's own: the call flow sets it (`speaking`) around each answer it
decides, so every step says its prompts in it without passing it along.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from activation.settings import DATA_DIR

LANGUAGES = ("en", "es")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
_language: ContextVar[str] = ContextVar("cas_call_language", default="en")


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Say every prompt of the block in this language (English when unknown)."""
    token = _language.set(language if language in LANGUAGES else "en")
    try:
        yield
    finally:
        _language.reset(token)


def language() -> str:
    """The language prompts are said in now."""
    return _language.get()


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


def handset(esn: str) -> str:
    """Speak a handset identity as it is printed on the handset: an 11-digit ESN as its
    manufacturer code and serial (138 0318 6457), a 15-digit IMEI as 35-209900-176148-1."""
    return digits(esn, (2, 6, 6) if len(esn) == 15 else (3, 4))


def tax_id(value: str, business: bool) -> str:
    """Speak an SSN as 123-45-6789, a business's EIN as 12-3456789."""
    return digits(value, (2,) if business else (3, 2))


def dollars(cents: int) -> str:
    """Speak an amount of money the way the call's language says it."""
    whole, rest = divmod(cents, 100)
    key = "amount_whole" if rest == 0 else "amount_cents"
    return say(key, dollars=str(whole), cents=str(rest))


def say_choices(keys: list[str]) -> str:
    """Name keys as a list is said: 1 or 2; 1, 2 or 3."""
    if len(keys) == 1:
        return keys[0]
    return f"{', '.join(keys[:-1])} {say('or')} {keys[-1]}"


class Said(str):
    """A sentence as said, knowing which prompt it is and in which language: machines are told
    the key, not speech, and the voice that says it is the language's."""

    key: str
    language: str

    def __new__(cls, text: str, key: str = "", language: str = "en") -> Said:
        said = super().__new__(cls, text)
        said.key, said.language = key, language
        return said

    def __reduce__(self) -> tuple[object, ...]:
        return (Said, (str(self), self.key, self.language))


def status_words(status: str) -> str:
    """Say a transaction's or line's status in the call's language."""
    key = f"status_{status}"
    return say(key) if key in prompts(_language.get()) else status.replace("_", " ")


@cache
def prompts(language: str = "en") -> dict[str, str]:
    """Return the voice prompts of data/prompts."""
    return json.loads((DATA_DIR / "prompts" / f"{language}.json").read_text())


def say(key: str, **values: str) -> Said:
    """Return one prompt in the call's language with its values filled in."""
    return say_in(_language.get(), key, **values)


def say_in(language: str, key: str, **values: str) -> Said:
    """Return one prompt in a given language (the offer of the other language at the start)."""
    return Said(prompts(language)[key].format(**values), key, language)
