"""Benchmark: where the CPU of a webhook and of a worker's attempt goes, against the floor.

Whole calls in-process on a fresh PostgreSQL database (the calls of bench_steps), each piece
of CAS's path timed by the CPU time of the thread that runs it, not by a profiler (which
slows what it watches unevenly) nor by the clock (which counts the waits for the database).
Pieces nest: the call's lock, the step's own work and the write are parts of the call flow,
which is part of the whole webhook. The worker's attempts are split by activity type into
the claim (with the job's prepare), the outside party's part (perform) and the settle (with
apply); its empty claims are counted apart. The floor of bench_load and a bare Flask view
are timed the same way in the same run.

    .venv/bin/python bench/bench_cpu.py [--calls 20]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm.session import SessionTransaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_steps import FORM, bare_app, floor_app, run_calls  # noqa: E402
from scratch import database_url_option, measure_posts, scratch_cas  # noqa: E402

from activation.call import engine, rows  # noqa: E402
from activation.jobs.registry import JOBS  # noqa: E402
from activation.jobs.worker import Worker  # noqa: E402
from activation.secrets import Vault  # noqa: E402
from ivr import twiml  # noqa: E402
from ivr.softphone import FlaskTransport, Softphone  # noqa: E402

# The webhook's pieces: (label, owner, attribute), outermost first.
WEBHOOK_PIECES: list[tuple[str, Any, str]] = [
    ("call flow (lock, step, write, commit)", engine.CallFlow, "answer"),
    ("call flow (lock, step, write, commit)", engine.CallFlow, "start"),
    ("  lock the call and its transaction", rows, "lock"),
    ("  the step's own work", engine.CallFlow, "_decide"),
    ("  write the call and its transaction", rows, "write"),
    ("  commit (flush of new rows, COMMIT)", SessionTransaction, "commit"),
    ("  seal the stored answer", Vault, "encrypt"),
    ("  log lines", logging.Logger, "_log"),
    ("TwiML", twiml, "render"),
]


class Clock:
    """Adds the thread CPU time of wrapped functions to labels, on chosen threads only."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self.times: Counter[str] = Counter()
        self.on = threading.local()

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.on.counting = True
        try:
            yield
        finally:
            self.on.counting = False

    def add(self, label: str, started: int) -> None:
        self.spent[label] += time.thread_time_ns() - started
        self.times[label] += 1

    def wrap(self, label: str, owner: Any, name: str) -> None:
        inner: Callable[..., Any] = getattr(owner, name)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not getattr(clock.on, "counting", False):
                return inner(*args, **kwargs)
            started = time.thread_time_ns()
            try:
                return inner(*args, **kwargs)
            finally:
                clock.add(label, started)

        setattr(owner, name, timed)


def watch_worker(clock: Clock) -> None:
    """Split each attempt of the worker by activity type: claim, perform, settle."""
    run_once, claim = Worker.run_once, Worker._claim
    kinds = threading.local()

    def claimed(self: Worker) -> Any:
        started = time.thread_time_ns()
        got = claim(self)
        kinds.type = got[0].type if got is not None else None
        kinds.claim = time.thread_time_ns() - started
        return got

    def attempt(self: Worker) -> bool:
        kinds.type, kinds.perform = None, 0
        started = time.thread_time_ns()
        busy = run_once(self)
        whole = time.thread_time_ns() - started
        kind = kinds.type if busy else None
        if kind is None:
            clock.spent["empty claim"] += whole
            clock.times["empty claim"] += 1
            return busy
        for part, spent in (
            ("claim and prepare", kinds.claim),
            ("perform", kinds.perform),
            ("settle and apply", whole - kinds.claim - kinds.perform),
            ("attempt", whole),
        ):
            clock.spent[f"{kind} {part}"] += spent
        clock.times[f"{kind} attempt"] += 1
        return busy

    for job in JOBS.values():
        perform = job.perform

        def performed(work: Any, attempt: int, services: Any, perform: Any = perform) -> Any:
            started = time.thread_time_ns()
            try:
                return perform(work, attempt, services)
            finally:
                kinds.perform = time.thread_time_ns() - started

        job.perform = performed  # type: ignore[method-assign]
    Worker._claim = claimed  # type: ignore[method-assign]
    Worker.run_once = attempt  # type: ignore[method-assign]


def cpu_of_posts(app: Any, url: str, times: int) -> float:
    """Mean thread CPU (us) of `times` posts of the same webhook, inside the app."""

    def cpu(answer: Callable[[], Iterable[bytes]]) -> tuple[list[bytes], int]:
        started = time.thread_time_ns()
        body = list(answer())
        return body, time.thread_time_ns() - started

    spent = measure_posts(app, url, times, FORM, cpu)
    return sum(spent[5:]) / len(spent[5:]) / 1000  # the first ones warm caches up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    database_url_option(parser)
    args = parser.parse_args()
    clock = Clock()
    for label, owner, name in WEBHOOK_PIECES:
        clock.wrap(label, owner, name)
    watch_worker(clock)
    webhooks = 0
    with scratch_cas(args.database_url, "cas_cpu") as cas:
        inner = cas.app.wsgi_app

        def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            nonlocal webhooks
            started = time.thread_time_ns()
            with clock.counting():
                body = list(inner(environ, start_response))
            clock.add("whole webhook", started)
            webhooks += 1
            return body

        cas.app.wsgi_app = wsgi  # type: ignore[method-assign]
        phone = Softphone(FlaskTransport(cas.app), "/voice", pause_scale=0.02)
        run_calls(phone, cas.services, 2)  # caches warmed, statements prepared
        clock.spent.clear()
        clock.times.clear()
        webhooks = 0
        run_calls(phone, cas.services, args.calls, first=2)
        cas.services.db.dispose()
        floor = cpu_of_posts(floor_app(cas.url), "/floor/gather?n=1", 200)
        bare = cpu_of_posts(bare_app(), "/bare?n=1", 200)
    report(clock, webhooks, args.calls, floor, bare)


def report(clock: Clock, webhooks: int, calls: int, floor: float, bare: float) -> None:
    whole = clock.spent["whole webhook"] / webhooks / 1000
    print(f"{calls} whole calls in-process on PostgreSQL, {webhooks} webhooks; thread CPU")
    print(f"{'a webhook':<44}{'us':>8}{'share':>8}{'x floor':>9}")
    print(f"{'whole webhook':<44}{whole:>8.0f}{'100%':>8}{whole / floor:>9.1f}")
    for label in dict.fromkeys(label for label, _, _ in WEBHOOK_PIECES):
        us = clock.spent[label] / webhooks / 1000
        print(f"{label:<44}{us:>8.0f}{us / whole:>8.0%}")
    print(f"floor (one locked row update): {floor:.0f} us; bare Flask view: {bare:.0f} us\n")
    kinds = sorted(
        {label.rsplit(" ", 1)[0] for label in clock.times if label.endswith(" attempt")},
        key=lambda kind: -clock.spent[f"{kind} attempt"],
    )
    print(f"{'an attempt of the worker':<24}{'attempts':>9}{'us':>8}{'claim':>8}{'perform':>9}")
    for kind in kinds:
        n = clock.times[f"{kind} attempt"]
        each = {
            part: clock.spent[f"{kind} {part}"] / n / 1000
            for part in ("attempt", "claim and prepare", "perform", "settle and apply")
        }
        print(
            f"{kind:<24}{n:>9}{each['attempt']:>8.0f}{each['claim and prepare']:>8.0f}"
            f"{each['perform']:>9.0f}   settle {each['settle and apply']:.0f}"
        )
    empty = clock.times["empty claim"]
    if empty:
        print(f"{'empty claims':<24}{empty:>9}{clock.spent['empty claim'] / empty / 1000:>8.0f}")
    attempts = sum(clock.spent[f"{kind} attempt"] for kind in kinds) / 1000
    print(
        f"the worker's attempts a call: {attempts / calls:.0f} us "
        f"= {attempts / calls / whole:.1f} webhooks' worth"
    )


if __name__ == "__main__":
    main()
