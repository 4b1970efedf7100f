"""Benchmark: Python function calls and SQL statements a webhook, by step, against the floor.

Counts are exact where times on a shared machine drift: every function call (Python and C)
made while the app answers a webhook, and every statement it sends (a COMMIT counted as
one), in-process on a fresh PostgreSQL database, whole calls driven by the softphone. The
floor of bench_load (one locked row update a webhook) and a bare Flask view are counted the
same way in the same run.

    .venv/bin/python bench/bench_calls.py [--calls 6]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_steps import FORM, bare_app, floor_app, run_calls, step_of, webhook_of  # noqa: E402
from scratch import database_url_option, measure_posts, scratch_cas  # noqa: E402

from ivr.softphone import FlaskTransport, Softphone  # noqa: E402


class Counter:
    """Counts function calls and statements on the thread that answers webhooks."""

    def __init__(self) -> None:
        self.calls = 0
        self.statements = 0
        self.on = threading.local()

    def _profile(self, frame: FrameType, event_name: str, arg: Any) -> None:
        if event_name in ("call", "c_call"):
            self.calls += 1

    def watch(self, engine: Any) -> None:
        """Count what an engine (or, given the class, every engine) sends while counting is
        on in the calling thread."""

        @event.listens_for(engine, "before_cursor_execute")
        def _sent(*_args: Any) -> None:
            if getattr(self.on, "counting", False):
                self.statements += 1

        @event.listens_for(engine, "commit")
        def _committed(*_args: Any) -> None:
            if getattr(self.on, "counting", False):
                self.statements += 1

    def count(self, answer: Callable[[], Iterable[bytes]]) -> tuple[list[bytes], int, int]:
        """Run one webhook; return its body, its function calls and its statements."""
        self.calls = self.statements = 0
        self.on.counting = True
        sys.setprofile(self._profile)
        try:
            body = list(answer())
        finally:
            sys.setprofile(None)
            self.on.counting = False
        return body, self.calls, self.statements


class ByStep:
    """WSGI middleware counting each webhook, labelled with the step it answered."""

    def __init__(self, app: Any, services: Any, counter: Counter) -> None:
        self.wsgi, self.services, self.counter = app.wsgi_app, services, counter
        self.calls: dict[str, list[int]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        step = step_of(self.services, *webhook_of(environ))
        answered, calls, statements = self.counter.count(lambda: self.wsgi(environ, start_response))
        self.calls[step].append(calls)
        self.statements[step].append(statements)
        return answered


def count_posts(app: Any, url: str, times: int, counter: Counter) -> tuple[float, float]:
    """Median function calls and statements of `times` posts of the same webhook, counted
    inside the app as CAS's webhooks are."""

    def count(answer: Callable[[], Iterable[bytes]]) -> tuple[list[bytes], tuple[int, int]]:
        body, calls, statements = counter.count(answer)
        return body, (calls, statements)

    counted = measure_posts(app, url, times, FORM, count)
    return (
        statistics.median(calls for calls, _ in counted),
        statistics.median(statements for _, statements in counted),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    database_url_option(parser)
    args = parser.parse_args()
    counter = Counter()
    counter.watch(Engine)  # CAS's engine and the floor's, made inside its app
    with scratch_cas(args.database_url, "cas_calls") as cas:
        by_step = ByStep(cas.app, cas.services, counter)
        cas.app.wsgi_app = by_step  # type: ignore[method-assign]
        phone = Softphone(FlaskTransport(cas.app), "/voice", pause_scale=0.02)
        run_calls(phone, cas.services, args.calls)
        cas.services.db.dispose()
        floor = floor_app(cas.url)
        floor_calls, floor_statements = count_posts(floor, "/floor/gather?n=1", 20, counter)
        bare_calls, _ = count_posts(bare_app(), "/bare?n=1", 20, counter)
    print(f"{args.calls} whole calls in-process on PostgreSQL; medians a webhook")
    print(f"{'step':<14}{'calls':>8}{'statements':>12}{'x floor calls':>15}")
    steps = sorted(by_step.calls, key=lambda s: -statistics.median(by_step.calls[s]))
    for step in steps:
        calls = statistics.median(by_step.calls[step])
        sent = statistics.median(by_step.statements[step])
        print(f"{step:<14}{calls:>8.0f}{sent:>12.1f}{calls / floor_calls:>15.1f}")
    call_avg = sum(statistics.median(by_step.calls[s]) for s in steps) / len(steps)
    sent_avg = sum(statistics.median(by_step.statements[s]) for s in steps) / len(steps)
    print(
        f"a step on average: {call_avg:.0f} calls, {sent_avg:.2f} statements = "
        f"{call_avg / floor_calls:.1f}x the floor's calls"
    )
    print(
        f"floor (one locked row update): {floor_calls:.0f} calls, {floor_statements:.0f} "
        f"statements; bare Flask view: {bare_calls:.0f} calls"
    )


if __name__ == "__main__":
    main()
