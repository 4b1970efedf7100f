"""bench/bench_cpu.py keeps working: a webhook's CPU split into its pieces, and each attempt
of the worker by activity type.

Not a test of the figures: it checks the pieces of a call's webhooks add up inside the whole
(they nest, so none may exceed it) and every activity of an activation is reported once.
"""

from __future__ import annotations

import re

import pytest

from tests.bench import run_bench
from tests.pg import POSTGRES_URL, needs_postgres


@needs_postgres
@pytest.mark.postgres
def test_bench_cpu_splits_webhooks_and_attempts_against_the_floor() -> None:
    out = run_bench("bench_cpu.py", "--calls", "1", "--database-url", POSTGRES_URL)
    whole = re.search(r"^whole webhook +(\d+) +100% +[\d.]+$", out, re.M)
    assert whole is not None, out
    pieces = dict(re.findall(r"^ *(\S[^\d\n]*?) +(\d+) +\d+%$", out, re.M))
    for piece in ("call flow", "lock the call", "the step's own work", "commit", "TwiML"):
        spent = next(int(us) for label, us in pieces.items() if label.startswith(piece))
        assert 0 < spent <= int(whole[1]), out
    attempts = dict(re.findall(r"^(\w+) +(\d+) +\d+ +\d+ +\d+   settle \d+$", out, re.M))
    for activity in ("credit_check", "switch_insert", "billing_record", "e911_register"):
        assert attempts.get(activity) == "1", out
    floor = r"^floor \(one locked row update\): \d+ us; bare Flask view: \d+ us"
    assert re.search(floor, out, re.M), out
