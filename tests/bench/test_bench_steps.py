"""bench/bench_steps.py keeps working: whole calls in-process and over HTTP to gunicorn, every
step timed against a bare view.

Not a timed test: it checks the benchmark dials the call the README describes to its end
and reports each step and the whole call, whatever the figures.
"""

from __future__ import annotations

import re

from tests.bench import run_bench


def test_bench_steps_times_every_step_of_whole_calls_in_process_and_over_http() -> None:
    out = run_bench("bench_steps.py", "--calls", "2", "--http")
    in_process, _, over_http = out.partition("round trip over HTTP to gunicorn, 2 whole calls")
    assert "2 whole calls on SQLite" in in_process and over_http, out
    for part in (in_process, over_http):
        steps = dict(re.findall(r"^(\w+) +(\d+) +[\d.]+ +[\d.]+ +[\d.]+$", part, re.M))
        # Every step of the activation was answered twice, once a call.
        for step in ("agent_id", "pin", "esn", "ssn", "rate_plan", "npa_nxx", "npa_confirm"):
            assert steps.get(step) == "2", out
        assert re.search(r"^whole call: [\d.]+ ms over \d+ webhooks", part, re.M), out
