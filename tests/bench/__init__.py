"""Tests that the benchmarks keep running; each runs one as a person would, by its path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run bench/SCRIPT with ARGS; return what it printed, failing on a non-zero exit."""
    run = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), *args],
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout
