"""Benchmark: 1,000 activations through the activation core from 4 processes on PostgreSQL.

Each process runs whole calls through CallFlow (no HTTP), with its own worker threads taking
the credit checks and switch insertions; the TL1 switch simulator runs as a separate process.
Prints activations per second, the number of distinct MIDs handed out, and anything lost or
left half-done.

    .venv/bin/python bench/bench_activations.py [--count 1000] [--processes 4] [--url URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activation.call.engine import CallFlow  # noqa: E402
from activation.call.outcomes import Hold, Prompt  # noqa: E402
from activation.jobs.worker import Worker  # noqa: E402
from activation.settings import Settings  # noqa: E402
from activation.store.models import Activity, Switch, TelephoneNumber, Transaction  # noqa: E402
from activation.store.setup import init_database  # noqa: E402
from ivr.bootstrap import bootstrap  # noqa: E402

SECRET = "bench-secret"


def keys_for(esn: str) -> list[str]:
    """The keys of one activation of Jane Q Public on HOU1."""
    return ["1001", "2468", "#", "2", esn, "1", "123456789", "1", "1", "10", "713555", "1", "2"]


def one_call(flow: CallFlow, esn: str) -> bool:
    """Run one activation through the core; tell whether it ended with an active MID."""
    sid = "CA" + secrets.token_hex(16)
    answer = flow.start(sid, "+15005550006")
    for key in keys_for(esn):
        while isinstance(answer.outcome, Hold):
            time.sleep(0.02)
            answer = flow.answer(sid, answer.seq, None)
        if not isinstance(answer.outcome, Prompt):
            return False
        answer = flow.answer(sid, answer.seq, key)
    return "Goodbye" in " ".join(answer.outcome.say)


def run_process(settings: Settings, esns: list[str], results: multiprocessing.Queue) -> None:
    services = bootstrap(settings)
    flow = CallFlow(services)
    stop = threading.Event()
    workers = [
        threading.Thread(target=Worker(services, f"bench-{os.getpid()}-{i}").run, args=(stop, 0.01))
        for i in range(2)
    ]
    for w in workers:
        w.start()
    ok = sum(one_call(flow, esn) for esn in esns)
    stop.set()
    for w in workers:
        w.join()
    results.put(ok)


def _open(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        return session.scalar(
            select(func.count()).where(Activity.state.in_(("pending", "running")))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "CAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    from switch_adapters.simulator.process import start_simulator

    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    name = f"cas_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="cas-bench-"))
    settings = Settings(data_dir=tmp, database_url=url, secret_key=SECRET, hold_pause=1)
    try:
        init_database(settings, demo=True)
        services = bootstrap(settings)
        with start_simulator("tl1", tmp / "hou1.sqlite3", name="cas", secret="hou1-secret") as sim:
            with services.db.transaction() as session:
                session.scalar(select(Switch).where(Switch.name == "HOU1")).primary_url = sim.url
            esns = [f"138{n:08d}" for n in range(10_000_000, 10_000_000 + args.count)]
            shares = [esns[p :: args.processes] for p in range(args.processes)]
            ctx = multiprocessing.get_context("spawn")
            results = ctx.Queue()
            procs = [
                ctx.Process(target=run_process, args=(settings, share, results)) for share in shares
            ]
            started = time.perf_counter()
            for proc in procs:
                proc.start()
            completed = sum(results.get() for _ in procs)
            elapsed = time.perf_counter() - started
            for proc in procs:
                proc.join()
            # Billing records queued by the last activations go out before anything is counted.
            drain = Worker(services, "bench-drain")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (drain.run_once() or _open(services)):
                time.sleep(0.05)
        with services.db.transaction() as session:
            mids = session.scalars(select(Transaction.mid).where(Transaction.mid.is_not(None)))
            mids = list(mids)
            active = session.scalar(select(func.count()).where(Transaction.status == "active"))
            reserved = session.scalar(
                select(func.count()).where(TelephoneNumber.status == "reserved")
            )
            open_acts = session.scalar(
                select(func.count()).where(Activity.state.in_(("pending", "running", "failed")))
            )
        services.db.dispose()
        print(
            f"activations: {completed} of {args.count} completed in {elapsed:.1f} s "
            f"from {args.processes} processes on PostgreSQL"
        )
        print(f"rate: {completed / elapsed:.1f} activations/s")
        print(f"distinct MIDs handed out: {len(set(mids))} (transactions with a MID: {len(mids)})")
        print(
            f"active transactions: {active}; numbers left reserved: {reserved}; "
            f"activities not done: {open_acts}"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
