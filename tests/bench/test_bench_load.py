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
    # Both systems warmed first, by calls counted in no level's figures.
    assert re.search(r"^warm-up: 4 calls to each, 2 at once, not counted$", out, re.M), out
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
    # Each system's CPU a webhook by role, read from /proc: every process of CAS's found (its
    # web server's, its worker's, their PostgreSQL backends', the switches'), the floor's alone.
    number = r"(\d+\.\d\d)"
    cas_cpu = re.findall(rf"^CAS +{number}" + rf" +{number}" * 5 + "$", out, re.M)
    floor_cpu = re.findall(rf"^floor +{number} +- +{number} +- +{number} +{number}$", out, re.M)
    assert len(cas_cpu) == 4 and len(floor_cpu) == 4, out
    for web, worker, database, switches, client, total in (map(float, r) for r in cas_cpu):
        # The switches' share may be under one clock tick (10 ms) in so short a run.
        assert min(web, worker, database, client) > 0 and switches >= 0, out
        assert abs(web + worker + database + switches + client - total) < 0.05, out
    for web, database, client, total in (map(float, r) for r in floor_cpu):
        assert min(web, database, client) > 0 and abs(web + database + client - total) < 0.05
    assert out.count("floor/CAS CPU a webhook: ") == 4, out
