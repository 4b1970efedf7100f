"""The order benchmark drains mixed orders with several worker processes and checks the result.

Run small, it is a test of its own: orders of every type placed through the API and drained by
two worker processes at once must all complete, with the switch holding every line as CAS does
(the benchmark refuses to print a rate otherwise).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..pg import POSTGRES_URL, needs_postgres

ROOT = Path(__file__).resolve().parents[2]


@needs_postgres
def test_mixed_orders_drained_by_two_workers_all_complete():
    done = subprocess.run(
        [sys.executable, "bench/bench_orders.py", "--orders", "50", "--workers", "2"],
        cwd=ROOT,
        env={**os.environ, "CAS_TEST_POSTGRES_URL": POSTGRES_URL},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "activate 5, change_esn 9, change_plan 9, disconnect 9, restore 9, suspend 9" in (
        done.stdout
    )
    assert "2 worker(s): 50 orders" in done.stdout
