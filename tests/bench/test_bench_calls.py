"""bench/bench_calls.py keeps working: every step of whole calls counted, and the floor too.

Not a test of the figures: it checks each step of the activation is reported with its calls
and statements, against a floor of three statements a webhook (lock, update, commit).
"""

from __future__ import annotations

import re

import pytest

from tests.bench import run_bench
from tests.pg import POSTGRES_URL, needs_postgres


@needs_postgres
@pytest.mark.postgres
def test_bench_calls_counts_every_step_against_the_floor() -> None:
    out = run_bench("bench_calls.py", "--calls", "1", "--database-url", POSTGRES_URL)
    steps = {
        step: (int(calls), float(statements))
        for step, calls, statements in re.findall(r"^(\w+) +(\d+) +([\d.]+) +[\d.]+$", out, re.M)
    }
    for step in ("agent_id", "pin", "esn", "ssn", "rate_plan", "npa_nxx", "npa_confirm"):
        calls, statements = steps[step]
        assert calls > 0 and statements >= 3, out  # every step locks, writes and commits
    floor = re.search(r"^floor \(one locked row update\): (\d+) calls, (\d+) statements", out, re.M)
    assert floor is not None and floor[2] == "3", out
    assert re.search(r"^a step on average: \d+ calls, [\d.]+ statements", out, re.M), out
