"""Every setting CAS reads is in the README's settings table, and every one there is read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\b(?:CAS|TWILIO)_[A-Z_]+[A-Z]\b")


def _read_by_settings() -> set[str]:
    return set(NAME.findall((ROOT / "activation" / "settings.py").read_text()))


def _in_the_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return set(NAME.findall(" ".join(rows)))


def test_every_setting_read_is_documented_and_every_one_documented_is_read() -> None:
    read, documented = _read_by_settings(), _in_the_table()
    assert read - documented == set(), "read by activation/settings.py, not in README"
    # The parties' own settings are read by name pattern (CAS_<PARTY>_URL and the like).
    parties = {
        name
        for name in documented
        if re.fullmatch(r"CAS_[A-Z0-9]+_(URL|TOKEN|USER|PASSWORD)", name)
    }
    assert documented - read - parties - {"CAS_LOG_FORMAT"} == set(), "in README, read nowhere"
