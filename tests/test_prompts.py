"""Every prompt is written in every language the call speaks, with the same values to fill in."""

from __future__ import annotations

import json
import string

import pytest

from activation.settings import DATA_DIR

PROMPTS = DATA_DIR / "prompts"
LANGUAGES = sorted(path.stem for path in PROMPTS.glob("*.json"))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_says_every_prompt_with_the_same_values(language):
    english = json.loads((PROMPTS / "en.json").read_text(encoding="utf-8"))
    other = json.loads((PROMPTS / f"{language}.json").read_text(encoding="utf-8"))
    assert sorted(set(english) ^ set(other)) == []
    for key, text in english.items():
        assert _fields(other[key]) == _fields(text), key
