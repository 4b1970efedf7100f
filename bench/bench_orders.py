"""Benchmark: 10,000 mixed orders placed through the partner order API, drained by 1, 2 and 4
worker processes on PostgreSQL.

The mix: a tenth are whole activations (credit check, number, switch insert, billing record,
welcome letter, E911), the rest are shared evenly among change_esn, change_plan, suspend,
restore and disconnect on lines already in service on HOU1, the TL1 switch, played by the
switch simulator in its own process. The bureau, PVS, billing and E911 are the in-process
simulators. The orders are placed once, through the API (Flask's test client, a partner key,
an Idempotency-Key each), into a template database; every run starts from a copy of that
database and of the switch's subscriber file, so each number of workers drains the same
orders. Worker processes start and connect first; the clock runs from the moment they are all
told to go until no order is left open. Every order must then be completed and the switch must
hold what CAS holds, or the run fails.

    CAS_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python bench/bench_orders.py \
        [--orders 10000] [--workers 1 2 4] [--repeat 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from activation.jobs.worker import Worker  # noqa: E402
from activation.lifecycle.order_states import OrderStatus  # noqa: E402
from activation.parties.switching import definition  # noqa: E402
from activation.service_layer.staff import add_api_key  # noqa: E402
from activation.settings import Settings  # noqa: E402
from activation.store.models import (  # noqa: E402
    Activity,
    ActivityAttempt,
    Agent,
    Handset,
    Switch,
    TelephoneNumber,
    Transaction,
    utcnow,
)
from activation.store.orders import Order  # noqa: E402
from activation.store.seed import add_block  # noqa: E402
from activation.store.setup import init_database  # noqa: E402
from ivr import create_app  # noqa: E402
from ivr.bootstrap import bootstrap  # noqa: E402
from switch_adapters.port import Subscriber  # noqa: E402
from switch_adapters.simulator.process import start_simulator  # noqa: E402
from switch_adapters.simulator.store import Store  # noqa: E402

SECRET = "bench-secret"
LINES_BLOCK = "713556"  # lines already in service; activations take numbers from 713555
LINE_TYPES = ("change_esn", "change_plan", "suspend", "restore", "disconnect")
OPEN = (OrderStatus.ACKNOWLEDGED, OrderStatus.IN_PROGRESS)
ACTIVATE = {
    "type": "activate",
    "agent": "1001",
    "pin": "2468",
    "customer": {"kind": "individual", "ssn": "123456789"},
    "rate_plan": "10",
    "npa_nxx": "713555",
}


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, secret_key=SECRET)


def _esn(kind: int, n: int) -> str:
    """An 11-digit ESN: manufacturer code 200 for lines, 201 for new handsets, 202 for sales."""
    return f"{200 + kind}{n:08d}"


def _mix(count: int) -> list[str]:
    """The order types, interleaved so every worker meets every kind all the time."""
    activations = count // 10
    kinds = ["activate"] * activations
    kinds += [LINE_TYPES[i % len(LINE_TYPES)] for i in range(count - activations)]
    random.Random(7).shuffle(kinds)
    return kinds


def _seed_lines(url: str, data_dir: Path, kinds: list[str], switch_file: Path) -> None:
    """Lines in service for the line orders (restore's suspended), in CAS and on the switch."""
    wanted = Counter(kinds)
    lines = len(kinds) - wanted["activate"]
    if lines > 10_000:
        raise SystemExit("at most 10,000 line orders: one NPA-NXX block of lines")
    suspended = set(range(wanted["restore"]))
    services = bootstrap(_settings(url, data_dir))
    now = utcnow()
    with services.db.transaction() as session:
        hou1 = session.scalar(select(Switch).where(Switch.name == "HOU1"))
        add_block(session, hou1, LINES_BLOCK, 0, 9999)
        agent = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        rows = [
            {
                "code": f"{60_000_000 + i}",
                "agent_id": agent,
                "status": "suspended" if i in suspended else "active",
                "suspend_reason": "lost" if i in suspended else None,
                "step": "mid",
                "esn": _esn(0, i),
                "customer_kind": "individual",
                "ssn_last4": "6789",
                "bureau_name": "Jane Q Public",
                "bureau_address": "12 Main Street",
                "credit_decision": "approve",
                "deposit_cents": 0,
                "rate_plan_code": "10",
                "npa_nxx": LINES_BLOCK,
                "mid": f"{LINES_BLOCK}{i:04d}",
                "switch_name": "HOU1",
                "created_at": now,
                "updated_at": now,
                "completed_at": now,
            }
            for i in range(lines)
        ]
        for start in range(0, lines, 2000):
            session.execute(insert(Transaction), rows[start : start + 2000])
        ids = dict(session.execute(select(Transaction.mid, Transaction.id)).all())
        for i in range(lines):
            mid = f"{LINES_BLOCK}{i:04d}"
            session.execute(
                update(TelephoneNumber)
                .where(TelephoneNumber.mid == mid)
                .values(status="active", transaction_id=ids[mid])
            )
        session.execute(
            insert(Handset),
            [{"esn": _esn(0, i), "model": "bench", "status": "active"} for i in range(lines)],
        )
    services.db.dispose()
    with Store(switch_file) as store:
        store.load(
            Subscriber(
                f"{LINES_BLOCK}{i:04d}",
                _esn(0, i),
                "10",
                "suspended" if i in suspended else "active",
            )
            for i in range(lines)
        )


def _place(url: str, data_dir: Path, kinds: list[str]) -> None:
    """Place every order through the partner order API, as a partner would."""
    services = bootstrap(_settings(url, data_dir))
    with services.db.transaction() as session:
        key = add_api_key(session, "bench")
    client = create_app({"TESTING": True}, services=services).test_client()
    headers = {"Authorization": f"Bearer {key}"}
    line = {kind: 0 for kind in LINE_TYPES}
    lines_before = {kind: 0 for kind in LINE_TYPES}
    counts = Counter(kinds)
    # Each line type takes its own stretch of lines; restore's come first (seeded suspended).
    offset = counts["restore"]
    for kind in LINE_TYPES:
        if kind != "restore":
            lines_before[kind] = offset
            offset += counts[kind]
    sales = 0
    for n, kind in enumerate(kinds):
        if kind == "activate":
            body: dict[str, Any] = {**ACTIVATE, "esn": _esn(2, sales)}
            sales += 1
        else:
            i = lines_before[kind] + line[kind]
            line[kind] += 1
            body = {"type": kind, "mid": f"{LINES_BLOCK}{i:04d}"}
            body |= {
                "change_esn": {"esn": _esn(1, i)},
                "change_plan": {"rate_plan": "20"},
                "suspend": {"reason": "non_payment"},
            }.get(kind, {})
        reply = client.post(
            "/api/orders", json=body, headers={**headers, "Idempotency-Key": f"bench-{n}"}
        )
        if reply.status_code != 201:
            raise SystemExit(f"order {n} ({kind}) refused: {reply.get_json()}")
        if n and n % 2000 == 0:
            print(f"  placed {n} orders", flush=True)
    services.db.dispose()


def _open_orders(services: Any) -> tuple[int, int]:
    """Orders still open, and activities pending or running."""
    with services.db.read() as session:
        open_ = session.scalar(
            select(func.count()).select_from(Order).where(Order.status.in_(OPEN))
        )
        busy = session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(Activity.state.in_(("pending", "running")))
        )
    return open_ or 0, busy or 0


def _work(url: str, data_dir: str, name: str, ready, go, results) -> None:  # type: ignore[no-untyped-def]
    services = bootstrap(_settings(url, Path(data_dir)))
    worker = Worker(services, name)
    _open_orders(services)  # connect before the clock starts
    ready.put(name)
    go.wait()
    ran = 0
    while True:
        if worker.run_once():
            ran += 1
            continue
        open_, busy = _open_orders(services)
        if open_ == 0 or busy == 0:  # all done, or nothing left that could finish them
            break
        time.sleep(0.005)  # another worker's activity will queue the next step
    results.put((name, ran, time.perf_counter()))
    services.db.dispose()


@contextmanager
def _copy_of(template: str) -> Iterator[str]:
    """A fresh database made from the template, dropped afterwards."""
    admin = create_engine(template, isolation_level="AUTOCOMMIT")
    source = make_url(template).database
    name = f"cas_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    try:
        yield make_url(template).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _verify(url: str, data_dir: Path, switch_file: Path, kinds: list[str]) -> None:
    """Every order completed, and the switch holds each line as CAS does."""
    services = bootstrap(_settings(url, data_dir))
    with services.db.read() as session:
        states = Counter(session.scalars(select(Order.status)))
        cas = {
            mid: (esn, plan, status)
            for mid, esn, plan, status in session.execute(
                select(
                    Transaction.mid, Transaction.esn, Transaction.rate_plan_code, Transaction.status
                ).where(Transaction.mid.is_not(None))
            )
        }
        per_type = session.execute(
            select(
                Activity.type,
                func.count(),
                func.avg(ActivityAttempt.duration_ms),
                func.count().filter(ActivityAttempt.outcome != "ok"),
            )
            .join(ActivityAttempt, ActivityAttempt.activity_id == Activity.id)
            .group_by(Activity.type)
            .order_by(Activity.type)
        ).all()
    services.db.dispose()
    print(
        "  attempts (mean ms outside the database): "
        + ", ".join(
            f"{kind} {n} ({ms:.0f}{f', {bad} not ok' if bad else ''})"
            for kind, n, ms, bad in per_type
        )
    )
    if states != Counter({OrderStatus.COMPLETED: len(kinds)}):
        raise SystemExit(f"orders not all completed: {dict(states)}")
    with Store(switch_file, readonly=True) as store:
        held = {s.mid: (s.esn, s.features, s.state) for s in store}
    if set(held) != set(cas):
        raise SystemExit(f"switch and CAS differ: {len(set(held) ^ set(cas))} MIDs")
    for mid, (esn, plan, status) in cas.items():
        if held[mid] != (esn, plan, status):
            raise SystemExit(f"{mid}: CAS {esn, plan, status}, switch {held[mid]}")


def _cpu_times() -> tuple[float, float]:
    """The machine's CPU time so far, busy and idle, from /proc/stat (Linux)."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields[:8]) - idle, idle


def _busy_cores(before: tuple[float, float], after: tuple[float, float]) -> str:
    """How many of the machine's cores were busy between two readings, every process counted."""
    busy, idle = after[0] - before[0], after[1] - before[1]
    if busy + idle <= 0:
        return "unknown"
    cores = os.cpu_count() or 1
    return f"{cores * busy / (busy + idle):.2f} of {cores} cores"


def run(template: str, switch_template: Path, kinds: list[str], workers: int) -> float:
    """Drain the template's orders with `workers` processes; return orders per second."""
    # A data dir of its own too: the in-process parties' ledgers start empty, as the copy does.
    with _copy_of(template) as url, tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        switch_file = run_dir / "switch-HOU1.sqlite3"
        shutil.copy(switch_template, switch_file)
        services = bootstrap(_settings(url, run_dir))
        with services.db.transaction() as session:
            hou1 = session.scalar(select(Switch).where(Switch.name == "HOU1"))
            sim = start_simulator(
                "tl1",
                switch_file,
                name=hou1.logon_name,
                secret=definition(hou1, services.vault).logon_secret,
            )
            hou1.primary_url = sim.url
        services.db.dispose()
        try:
            ctx = multiprocessing.get_context("spawn")
            ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
            procs = [
                ctx.Process(target=_work, args=(url, str(run_dir), f"w{n}", ready, go, results))
                for n in range(workers)
            ]
            for proc in procs:
                proc.start()
            for _ in procs:
                ready.get(timeout=120)
            started, cpu_before = time.perf_counter(), _cpu_times()
            go.set()
            finished = [results.get(timeout=3600) for _ in procs]
            busy = _busy_cores(cpu_before, _cpu_times())
            for proc in procs:
                proc.join()
        finally:
            sim.stop()
        elapsed = max(end for _, _, end in finished) - started
        _verify(url, run_dir, switch_file, kinds)
    ran = sum(n for _, n, _ in finished)
    split = ", ".join(f"{name} {n}" for name, n, _ in sorted(finished))
    rate = len(kinds) / elapsed
    print(
        f"{workers} worker(s): {len(kinds)} orders ({ran} activities) in {elapsed:6.2f} s"
        f" = {rate:6.0f} orders/s  ({split}); the machine busy {busy}",
        flush=True,
    )
    return rate


def main() -> None:
    """Place the orders once, drain a copy with each number of workers, print the scaling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("CAS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=1, help="runs per number of workers")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL (--database-url or CAS_TEST_POSTGRES_URL)")
    os.environ["CAS_TEST_POSTGRES_URL"] = args.database_url
    from tests.pg import private_database  # a throw-away database on that server

    kinds = _mix(args.orders)
    with tempfile.TemporaryDirectory() as tmp, private_database() as template:
        data_dir = Path(tmp)
        switch_template = data_dir / "switch-template.sqlite3"
        init_database(_settings(template, data_dir), demo=True)
        _seed_lines(template, data_dir, kinds, switch_template)
        started = time.perf_counter()
        _place(template, data_dir, kinds)
        placing = time.perf_counter() - started
        mix = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(kinds).items()))
        print(f"PostgreSQL, {os.cpu_count()} cores; HOU1 (TL1) simulated; orders: {mix}")
        print(f"placed through the API in {placing:.1f} s ({len(kinds) / placing:.0f}/s)")
        rates = {
            n: max(run(template, switch_template, kinds, n) for _ in range(args.repeat))
            for n in args.workers
        }
    base = rates[args.workers[0]]
    for n, rate in rates.items():
        print(
            f"{n} worker(s): best {rate:6.0f} orders/s, scaling vs {args.workers[0]}: "
            f"x{rate / base:.2f}"
        )


if __name__ == "__main__":
    main()
