"""Benchmark: drain 10,000 pending activities with 1, 2 and 4 worker processes on PostgreSQL.

The activities are billing records sent to the billing simulator (one small file each), so what
is measured is the queue itself: claim under SKIP LOCKED, the lease check, finish and the
activity log. Worker processes start and connect first; the clock runs from the moment they
are all told to go until the last one finds the queue empty.

    CAS_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python bench/bench_queue.py \
        [--activities 10000] [--workers 1 2 4] [--repeat 1]

With --repeat N each number of workers is run N times and the best rate counts: on a shared
machine the best run is the one least disturbed by others.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select  # noqa: E402

from activation.jobs.worker import Worker  # noqa: E402
from activation.parties.ports import BillingRecord  # noqa: E402
from activation.settings import Settings  # noqa: E402
from activation.store.models import Activity, ActivityAttempt, utcnow  # noqa: E402
from activation.store.setup import init_database  # noqa: E402
from ivr.bootstrap import bootstrap  # noqa: E402

SECRET = "bench-secret"


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, secret_key=SECRET)


def _fill(url: str, data_dir: Path, count: int) -> None:
    services = bootstrap(_settings(url, data_dir))
    now = utcnow()
    rows = [
        {
            "type": "billing_record",
            "target": "billing",
            "payload": asdict(
                BillingRecord(
                    f"{i:08d}",
                    f"713555{i % 10000:04d}",
                    "13803186457",
                    "10",
                    "Jane Q Public",
                    "12 Main Street",
                    0,
                    "",
                )
            ),
            "state": "pending",
            "attempts": 0,
            "max_attempts": 50,
            "next_try_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]
    with services.db.transaction() as session:
        session.execute(delete(ActivityAttempt))
        session.execute(delete(Activity))
        for start in range(0, count, 2000):
            session.execute(insert(Activity), rows[start : start + 2000])
    services.db.dispose()
    shutil.rmtree(data_dir / "billing", ignore_errors=True)


def _work(url: str, data_dir: str, name: str, ready, go, results) -> None:  # type: ignore[no-untyped-def]
    services = bootstrap(_settings(url, Path(data_dir)))
    worker = Worker(services, name)
    with services.db.transaction() as session:  # connect before the clock starts
        session.scalar(select(func.count()).select_from(Activity))
    ready.put(name)
    go.wait()
    ran = worker.drain()
    results.put((name, ran, time.perf_counter()))
    services.db.dispose()


def run(url: str, data_dir: Path, count: int, workers: int) -> float:
    """Drain `count` activities with `workers` processes; return activities per second."""
    _fill(url, data_dir, count)
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_work, args=(url, str(data_dir), f"w{n}", ready, go, results))
        for n in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)
    started = time.perf_counter()
    go.set()
    finished = [results.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = max(end for _, _, end in finished) - started
    drained = sum(ran for _, ran, _ in finished)
    services = bootstrap(_settings(url, data_dir))
    with services.db.transaction() as session:
        done = session.scalar(
            select(func.count()).select_from(Activity).where(Activity.state == "done")
        )
        logged = session.scalar(select(func.count()).select_from(ActivityAttempt))
    services.db.dispose()
    if (drained, done, logged) != (count, count, count):
        raise SystemExit(f"lost work: drained {drained}, done {done}, logged {logged} of {count}")
    split = ", ".join(f"{name} {ran}" for name, ran, _ in sorted(finished))
    rate = count / elapsed
    print(f"{workers} worker(s): {count} activities in {elapsed:6.2f} s = {rate:7.0f}/s  ({split})")
    return rate


def main() -> None:
    """Run the benchmark and print the rates and the scaling ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("CAS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=1, help="runs per number of workers")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL (--database-url or CAS_TEST_POSTGRES_URL)")
    os.environ["CAS_TEST_POSTGRES_URL"] = args.database_url
    from tests.pg import private_database  # a throw-away database on that server

    with tempfile.TemporaryDirectory() as tmp, private_database() as url:
        init_database(_settings(url, Path(tmp)), demo=False)
        print(f"PostgreSQL, {os.cpu_count()} cores; billing records to the billing simulator")
        rates = {
            n: max(run(url, Path(tmp), args.activities, n) for _ in range(args.repeat))
            for n in args.workers
        }
    base = rates[args.workers[0]]
    for n, rate in rates.items():
        print(
            f"{n} worker(s): best {rate:7.0f}/s, scaling vs {args.workers[0]}: x{rate / base:.2f}"
        )


if __name__ == "__main__":
    main()
