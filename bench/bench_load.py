"""Benchmark: whole activation calls over HTTP to `cas serve`, C at once, against a floor app.

CAS runs as it does in production: `cas serve` (gunicorn, 2 workers) and `cas worker` on a
fresh PostgreSQL database with the demo data, the demo's switch simulators, and one bench agent
per concurrent caller. A client playing Twilio places N whole calls, C at once: every webhook is
a form post signed with X-Twilio-Signature, and it follows each answer's Gather action and
Redirect (the softphone of `cas dial`). In the same run the same client drives the floor app
(bench/load_floor.py: one locked row update per webhook) under the same gunicorn settings, with
as many webhooks per call as CAS's calls took, signed alike. Prints webhooks/s and p50/p90/p99
of both, the ratios against the goals, distinct MIDs and errors, and (on Linux) the CPU each
spent a webhook by role: web server, queue worker, PostgreSQL backends, switch simulators and
the client, read from /proc between the start and the end of each system's run (CAS's run
ends when its worker has done what its calls queued).

    .venv/bin/python bench/bench_load.py [--calls 150] [--concurrency 10,50,200] [--rounds 1]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Both systems first take a few calls that are not counted (warm-up), so what is measured is a
server that has run a while: each gunicorn worker has compiled its statements and verified
the bench agents' PIN once, as a server answering webhooks for hours has long done.

On a machine whose speed drifts, --rounds 3 alternates CAS and the floor three times a level
and prints the median ratios as well.

The server's database is created on that server and dropped at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jane import keys_for  # noqa: E402
from load_floor import TABLE  # noqa: E402
from proc_cpu import Roles, spent_between  # noqa: E402

from activation.settings import Settings  # noqa: E402
from activation.store.models import Activity, Agent, Call, Transaction  # noqa: E402
from activation.store.setup import init_database  # noqa: E402
from ivr.cli import gunicorn_args  # noqa: E402
from ivr.demo_switches import start_switches  # noqa: E402
from ivr.phone_lines import HttpTransport, WebhookError  # noqa: E402
from ivr.softphone import Softphone, SoftphoneError  # noqa: E402
from ivr.supervisor import Spawned, Supervisor  # noqa: E402

AUTH_TOKEN = "bench-auth-token"
SECRET = "bench-secret"
FIRST_AGENT = 70000  # bench agents 70000, 70001, ... one per concurrent caller
HOLD_SCALE = 0.05  # a 1 s <Pause> on hold is waited 50 ms
GOALS = "goals at C=50: webhooks/s >= 0.5x the floor's, p99 <= 3x the floor's"


@dataclass
class Tally:
    """What the client saw of one system at one concurrency."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    done: int = 0
    sids: list[str] = field(default_factory=list)
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def webhooks(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.webhooks / self.wall if self.wall else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))


class TimedTransport:
    """HTTP to gunicorn, timing every webhook and counting its status into a tally."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        self.inner, self.tally, self.base_url = HttpTransport(base_url), tally, base_url

    def post(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            status, body = self.inner.post(url, form, headers)
        except WebhookError as error:
            with self.tally.lock:
                self.tally.statuses["no answer"] += 1
            raise error
        spent = time.perf_counter() - started
        with self.tally.lock:
            self.tally.latencies.append(spent)
            self.tally.statuses[str(status)] += 1
        return status, body

    def get(self, url: str, headers: Mapping[str, str]):  # type: ignore[no-untyped-def]
        return self.inner.get(url, headers)


def drive(
    concurrency: int,
    calls: int,
    phone_for: Callable[[Tally], Softphone],
    one_call: Callable[[Softphone, int, int], bool],
) -> Tally:
    """Place `calls` calls, `concurrency` at once; each caller thread is one agent."""
    tally = Tally()
    numbers = iter(range(calls))
    take = threading.Lock()
    slots = iter(range(concurrency))

    stopping = threading.Event()

    def caller() -> None:
        with take:
            slot = next(slots)
        phone = phone_for(tally)
        while not stopping.is_set():
            with take:
                n = next(numbers, None)
            if n is None:
                return
            try:
                ok = one_call(phone, slot, n)
            except SoftphoneError as error:
                ok = False
                with tally.lock:
                    tally.failures[type(error).__name__] += 1
            with tally.lock:
                tally.done += ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        try:
            for future in [pool.submit(caller) for _ in range(concurrency)]:
                future.result()
        except BaseException:  # Ctrl-C: callers end their calls in hand, then all is stopped
            stopping.set()
            raise
    tally.wall = time.perf_counter() - started
    return tally


def cas_level(url: str, concurrency: int, calls: int, level: int, first: int = 0) -> Tally:
    """Whole activations, every call with a handset of its own (numbered from `first`)."""

    def phone_for(tally: Tally) -> Softphone:
        transport = TimedTransport(url, tally)
        return Softphone(
            transport, "/voice", auth_token=AUTH_TOKEN, public_url=url, pause_scale=HOLD_SCALE
        )

    def one_call(phone: Softphone, slot: int, n: int) -> bool:
        call = phone.dial(from_="+15005550006", to="+15005550000")
        with phone.transport.tally.lock:  # type: ignore[attr-defined]
            phone.transport.tally.sids.append(call.sid)  # type: ignore[attr-defined]
        for key in keys_for(f"139{level}{first + n:07d}", str(FIRST_AGENT + slot)):
            call.press(key)
        heard = " ".join(call.heard[-3:])
        if not (call.ended and call.transfer is None and "Goodbye" in heard):
            with phone.transport.tally.lock:  # type: ignore[attr-defined]
                phone.transport.tally.failures[f"ended at: {heard[-60:]}"] += 1  # type: ignore[attr-defined]
            return False
        return True

    return drive(concurrency, calls, phone_for, one_call)


def floor_level(url: str, concurrency: int, calls: int, webhooks_per_call: int) -> Tally:
    """As many calls to the floor, each with as many webhooks as CAS's calls took.

    CAS's webhooks beyond the keys are polls on hold, each after a pause: the floor's caller
    waits as long before as many of its webhooks, and signs each as Twilio does CAS's, so both
    clients do alike (the floor checks no signature: that is CAS's own cost).
    """
    polls = max(0, webhooks_per_call - 1 - len(keys_for("", "")))

    def phone_for(tally: Tally) -> Softphone:
        transport = TimedTransport(url, tally)
        return Softphone(
            transport, "/floor", auth_token=AUTH_TOKEN, public_url=url, pause_scale=HOLD_SCALE
        )

    def one_call(phone: Softphone, slot: int, n: int) -> bool:
        call = phone.dial(from_="+15005550006", to="+15005550000")
        for n in range(webhooks_per_call - 1):
            if n < polls:
                time.sleep(HOLD_SCALE)
            call.press("1#")
        return True

    return drive(concurrency, calls, phone_for, one_call)


def mids_of(database_url: str, sids: list[str]) -> tuple[int, int]:
    """Return (calls whose transaction got a MID, distinct MIDs among them)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            mids = conn.scalars(
                select(Transaction.mid)
                .join(Call, Call.transaction_id == Transaction.id)
                .where(Call.call_sid.in_(sids), Transaction.mid.is_not(None))
            ).all()
    finally:
        engine.dispose()
    return len(mids), len(set(mids))


@contextmanager
def fresh_database(admin_url: str, keep: bool) -> Iterator[str]:
    """Create an empty database on the server; drop it afterwards unless kept."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"cas_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database kept: {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(database_url: str, agents: int) -> None:
    """One bench agent per concurrent caller, each with demo agent 1001's PIN; the floor's table."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            pin_hash = conn.scalar(select(Agent.pin_hash).where(Agent.agent_code == "1001"))
            rows = [
                {"agent_code": str(FIRST_AGENT + i), "name": f"Bench {i}", "pin_hash": pin_hash}
                for i in range(agents)
            ]
            conn.execute(insert(Agent), rows)
            conn.execute(text(TABLE))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, child: Spawned) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if child.poll() is not None:
            raise SystemExit(f"{url} exited at start; see {child.log_path}")
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer; see {child.log_path}")


@dataclass
class Stack:
    """The two systems under load: where each answers, and its processes by role."""

    cas_url: str
    floor_url: str
    cas_roles: Roles
    floor_roles: Roles


# The application name each system's processes give PostgreSQL, so its backends are told apart.
APP_NAMES = {"web": "cas-bench-web", "worker": "cas-bench-worker", "floor": "cas-bench-floor"}


def start_stack(stack: ExitStack, database_url: str, agents: int, home: Path) -> Stack:
    """Start CAS (web, worker, switch simulators) and the floor."""
    settings = Settings(data_dir=home, database_url=database_url, secret_key=SECRET)
    init_database(settings, demo=True)
    seed(database_url, agents)
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(lambda line: None)
    stack.callback(supervisor.stop_all)
    start_switches(supervisor, settings, logs)
    cas_port, floor_port = free_port(), free_port()
    cas_url, floor_url = f"http://127.0.0.1:{cas_port}", f"http://127.0.0.1:{floor_port}"
    env = {
        **os.environ,
        "CAS_DATA_DIR": str(home),
        "CAS_DATABASE_URL": database_url,
        "CAS_SECRET_KEY": SECRET,
        "CAS_PARTNERS": "simulated",
        "CAS_HOLD_PAUSE": "1",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CAS_PUBLIC_URL": cas_url,
        "CAS_LOG_FORMAT": "text",
        "FLOOR_DATABASE_URL": database_url,
    }
    python = sys.executable

    def named(role: str) -> dict[str, str]:
        return {**env, "PGAPPNAME": APP_NAMES[role]}  # libpq's default application name

    worker = Spawned([python, "-m", "ivr", "worker"], named("worker"), logs / "worker.log")
    stack.callback(worker.stop)
    serve = ["-m", "ivr", "serve", "--port", str(cas_port), "--workers", "2"]
    web = Spawned([python, *serve], named("web"), logs / "web.log")
    stack.callback(web.stop)
    floor_args = gunicorn_args(f"127.0.0.1:{floor_port}", 2)
    floor_args[-1:] = ["--pythonpath", str(Path(__file__).parent), "load_floor:create_app()"]
    floor = Spawned([python, *floor_args], named("floor"), logs / "floor.log")
    stack.callback(floor.stop)
    wait_healthy(cas_url, web)
    wait_healthy(floor_url, floor)
    cas_roles = Roles(
        database_url,
        trees={"web": [web.pid], "worker": [worker.pid], "switches": [*supervisor.pids().values()]},
        backends={APP_NAMES["web"]: "database", APP_NAMES["worker"]: "database"},
    )
    floor_roles = Roles(
        database_url, trees={"web": [floor.pid]}, backends={APP_NAMES["floor"]: "database"}
    )
    return Stack(cas_url, floor_url, cas_roles, floor_roles)


def wait_for_queue(database_url: str, timeout: float = 60.0) -> None:
    """Wait until the worker has run every activity due (what the last calls queued)."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.scalar(
                    select(func.count())
                    .select_from(Activity)
                    .where(
                        Activity.state.in_(("pending", "running")),
                        Activity.next_try_at <= func.now(),
                    )
                )
            if not left:
                return
            time.sleep(0.2)
    finally:
        engine.dispose()


def webhooks_a_call(cas: Tally, calls: int) -> int:
    """How many webhooks the floor's calls take: as many as CAS's took on average."""
    return max(2, round(cas.webhooks / max(1, calls)))


WARM_UP_FIRST = 9_000_000  # the warm-up's handsets, numbered apart from every level's


def warm_up(systems: Stack, database_url: str, callers: int) -> None:
    """A few whole calls to each system, not counted: enough for every thread of both gunicorn
    workers to have answered each step once."""
    calls = 2 * callers
    cas = cas_level(systems.cas_url, callers, calls, 0, first=WARM_UP_FIRST)
    wait_for_queue(database_url)
    floor_level(systems.floor_url, callers, calls, webhooks_a_call(cas, calls))
    print(f"warm-up: {calls} calls to each, {callers} at once, not counted")


def row(name: str, tally: Tally, mids: str) -> str:
    statuses = ",".join(f"{k}:{v}" for k, v in sorted(tally.statuses.items()) if k != "200")
    return (
        f"{name:<7}{tally.webhooks:>9}{tally.rate:>12.1f}{tally.percentile(0.5):>9.1f}"
        f"{tally.percentile(0.9):>9.1f}{tally.percentile(0.99):>9.1f}{tally.server_errors:>6}"
        f"{tally.done:>7}{mids:>7}  {statuses or '-'}"
    )


def ratio(cas: Tally, floor: Tally) -> tuple[float, float]:
    """CAS's webhooks/s and p99 against the floor's."""
    throughput = cas.rate / floor.rate if floor.rate else 0.0
    return throughput, cas.percentile(0.99) / floor.percentile(0.99) if floor.latencies else 0.0


ROLES = ("web", "worker", "database", "switches", "client")


def cpu_rows(
    cas: Tally, floor: Tally, cas_cpu: dict[str, float], floor_cpu: dict[str, float]
) -> None:
    """Print what each system's processes spent a webhook, by role, and the totals' ratio."""
    print(f"{'CPU ms a webhook':<18}" + "".join(f"{role:>10}" for role in ROLES) + f"{'total':>10}")
    totals = []
    for name, tally, spent in (("CAS", cas, cas_cpu), ("floor", floor, floor_cpu)):
        per = (
            {role: spent[role] * 1000 / tally.webhooks for role in spent} if tally.webhooks else {}
        )
        cells = "".join(f"{per[r]:>10.2f}" if r in per else f"{'-':>10}" for r in ROLES)
        totals.append(sum(per.values()))
        print(f"{name:<18}{cells}{totals[-1]:>10.2f}")
    if totals[0]:
        print(f"floor/CAS CPU a webhook: {totals[1] / totals[0]:.2f}x")


def report(concurrency: int, calls: int, cas: Tally, floor: Tally, mids: tuple[int, int]) -> None:
    print(f"\nC={concurrency}, {calls} calls ({cas.webhooks / calls:.1f} webhooks a call)")
    print(
        f"{'':<7}{'webhooks':>9}{'webhooks/s':>12}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'5xx':>6}{'calls':>7}{'MIDs':>7}  other statuses"
    )
    print(row("CAS", cas, f"{mids[1]}"))
    print(row("floor", floor, "-"))
    throughput, p99 = ratio(cas, floor)
    print(f"CAS/floor: webhooks/s {throughput:.2f}x, p99 {p99:.1f}x  ({GOALS})")
    lost = calls - cas.done
    print(
        f"calls with a MID {mids[0]}, distinct MIDs {mids[1]}, calls not completed {lost}"
        + (f": {dict(cas.failures)}" if cas.failures else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--calls", type=int, default=150, help="calls a level (twice the concurrency at least)"
    )
    parser.add_argument("--concurrency", default="10,50,200", help="comma-separated levels")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CAS_TEST_POSTGRES_URL", ""),
        help="a PostgreSQL server to create the bench's database on",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds a level, CAS then the floor each time; more than one prints the medians",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit(
            "bench_load needs a PostgreSQL server: --database-url or CAS_TEST_POSTGRES_URL"
        )
    levels = [int(c) for c in args.concurrency.split(",")]
    home = Path(tempfile.mkdtemp(prefix="cas-load-"))
    with fresh_database(args.database_url, args.keep) as database_url, ExitStack() as stack:
        systems = start_stack(stack, database_url, max(levels), home)
        print(
            f"{args.calls} whole calls a level over HTTP; CAS on PostgreSQL with 2 gunicorn workers"
        )
        warm_up(systems, database_url, min(8, max(levels)))  # 8: both workers' 4 threads
        for level, concurrency in enumerate(levels):
            calls = max(args.calls, 2 * concurrency)  # every caller places two calls at least
            ratios = []
            for turn in range(args.rounds):
                started = systems.cas_roles.snapshot()
                cas = cas_level(systems.cas_url, concurrency, calls, level, first=turn * calls)
                wait_for_queue(database_url)  # the worker's tail is CAS's, not the floor's
                cas_cpu = spent_between(started, systems.cas_roles.snapshot())
                per_call = webhooks_a_call(cas, cas.done or calls)
                started = systems.floor_roles.snapshot()
                floor = floor_level(systems.floor_url, concurrency, calls, per_call)
                floor_cpu = spent_between(started, systems.floor_roles.snapshot())
                floor.done = calls - sum(floor.failures.values())
                report(concurrency, calls, cas, floor, mids_of(database_url, cas.sids))
                if cas_cpu and floor_cpu:  # none read where /proc is not
                    cpu_rows(cas, floor, cas_cpu, floor_cpu)
                ratios.append(ratio(cas, floor))
            if args.rounds > 1:
                rates, p99s = zip(*ratios, strict=True)
                print(
                    f"C={concurrency}, median of {args.rounds} rounds: webhooks/s "
                    f"{statistics.median(rates):.2f}x, p99 {statistics.median(p99s):.1f}x "
                    f"(each round CAS, then the floor)"
                )
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    else:
        print(f"files kept: {home}")


if __name__ == "__main__":
    main()
