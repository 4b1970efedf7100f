"""bench/bench_load.py keeps working: a few calls at two levels, every one with its own MID.

Not a timed test: it checks the benchmark runs CAS and the floor end to end and reports what
it saw, whatever the figures.
"""

from __future__ import annotations

import re

import pytest

from tests.bench import run_bench
from tests.pg import POSTGRES_URL, needs_postgres


@needs_postgres
@pytest.mark.postgres
@pytest.mark.slow
def test_bench_load_runs_whole_calls_against_the_floor() -> None:
    out = run_bench(
        "bench_load.py",
        *("--calls", "4", "--concurrency", "1,2", "--rounds", "2"),
        env={"CAS_TEST_POSTGRES_URL": POSTGRES_URL},
    )
    assert out.count("CAS/floor: webhooks/s") == 4, out  # two rounds a level
    for level in (1, 2):
        assert out.count(f"C={level}, 4 calls") == 2, out
        medians = rf"^C={level}, median of 2 rounds: webhooks/s [\d.]+x, p99 [\d.]+x"
        assert re.search(medians, out, re.M), out
    # Every call of every round completed with its own number, and no webhook failed.
    assert out.count("calls with a MID 4, distinct MIDs 4, calls not completed 0") == 4, out
    cas_rows = re.findall(
        r"^CAS +(\d+) +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +(\d+) +(\d+) +(\d+)  (.*)$", out, re.M
    )
    floor_rows = re.findall(r"^floor +(\d+) .* (\d+) +(\d+) +-  (.*)$", out, re.M)
    assert len(cas_rows) == 4 and len(floor_rows) == 4, out
    for webhooks, server_errors, done, mids, other in cas_rows:
        assert int(webhooks) >= 4 * 14 and server_errors == "0" and done == mids == "4"
        assert other == "-"
    for _webhooks, server_errors, done, other in floor_rows:
        assert server_errors == "0" and done == "4" and other == "-"
