"""Benchmark: the server time of each call step and of a whole call, against a bare reply.

The baseline, measured in the same run and the same way, is a bare Flask view returning a fixed
TwiML document. Every webhook is timed inside the WSGI app (no network), so the ratio is what
CAS adds to the cheapest possible answer. Holds are polled but the waiting is not counted. On
PostgreSQL the floor of bench_load (one locked row update a webhook) is timed the same way, for
what any durable step costs at least.

    .venv/bin/python bench/bench_steps.py [--calls 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs

import requests
from flask import Flask, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jane import keys_for  # noqa: E402
from scratch import demo_cas  # noqa: E402

from activation.jobs.worker import Worker  # noqa: E402
from activation.store.models import Call  # noqa: E402
from ivr.softphone import FlaskTransport, HttpTransport, Softphone  # noqa: E402

BARE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/bare?n=1" '
    'finishOnKey="#" input="dtmf" method="POST" timeout="6"><Say voice="Polly.Joanna">Please '
    'enter your agent I D, then press pound.</Say></Gather><Redirect method="POST">/bare?n=1'
    "</Redirect></Response>"
)


def webhook_of(environ) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A webhook's CallSid and path, its body read and put back for the app."""
    body = environ["wsgi.input"].read()
    environ["wsgi.input"] = io.BytesIO(body)
    return parse_qs(body.decode()).get("CallSid", [""])[0], environ["PATH_INFO"]


def step_of(services, sid: str, path: str) -> str:  # type: ignore[no-untyped-def]
    """The step a webhook answers: "start" for a new call, else where its call stands."""
    if path.endswith("/voice"):
        return "start"
    with services.db.read() as session:
        return session.get_one(Call, sid).step


class StepTimer:
    """WSGI middleware timing each webhook, labelled with the step it answered."""

    def __init__(self, app: Flask, services) -> None:  # type: ignore[no-untyped-def]
        self.app, self.wsgi, self.services = app, app.wsgi_app, services
        self.times: dict[str, list[float]] = defaultdict(list)
        self.per_call: dict[str, float] = defaultdict(float)

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        sid, path = webhook_of(environ)
        step = step_of(self.services, sid, path)
        started = time.perf_counter()
        body = b"".join(self.wsgi(environ, start_response))
        spent = time.perf_counter() - started
        self.times[step].append(spent)
        self.per_call[sid] += spent
        return [body]


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/bare")
    def bare() -> Response:
        return Response(BARE_TWIML, mimetype="text/xml")

    return app


FORM = {"CallSid": "CA" + "0" * 32, "Digits": "1001", "From": "+15005550006"}


def _time_posts(app: Flask, url: str, count: int) -> list[float]:
    """Time `count` in-process posts of the same webhook to an app."""
    client = app.test_client()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.post(url, data=FORM)
        times.append(time.perf_counter() - started)
    return times


def time_bare(count: int) -> list[float]:
    return _time_posts(bare_app(), "/bare?n=1", count)


def floor_app(database_url: str) -> Flask:
    """The floor of bench_load (one locked row update a webhook) on a database, its call's
    row already written as by the call's first webhook."""
    from load_floor import TABLE, create_app
    from sqlalchemy import create_engine, text

    setup = create_engine(database_url)
    with setup.begin() as conn:
        conn.execute(text(TABLE))
    setup.dispose()
    os.environ["FLOOR_DATABASE_URL"] = database_url
    floor = create_app()
    floor.test_client().post("/floor", data=FORM)
    return floor


def time_floor(count: int, database_url: str) -> list[float]:
    """Time the floor in-process, as the bare view is timed: the least a durable step costs
    on this database."""
    return _time_posts(floor_app(database_url), "/floor/gather?n=1", count)


class TimedTransport:
    """A real-HTTP transport timing each round trip, labelled with the step it answered."""

    def __init__(self, inner: HttpTransport, services) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.services, self.base_url = inner, services, inner.base_url
        self.times: dict[str, list[float]] = defaultdict(list)
        self.per_call: dict[str, float] = defaultdict(float)

    def post(self, url: str, form, headers):  # type: ignore[no-untyped-def]
        sid = form.get("CallSid", "")
        step = step_of(self.services, sid, url)
        started = time.perf_counter()
        reply = self.inner.post(url, form, headers)
        spent = time.perf_counter() - started
        self.times[step].append(spent)
        self.per_call[sid] += spent
        return reply

    def get(self, url: str, headers):  # type: ignore[no-untyped-def]
        return self.inner.get(url, headers)


def _gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "4",
        "--pythonpath",
        str(Path(__file__).parent),
        app,
    ]
    # Its log goes to a file, read back when it does not start: the reason is in it.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, env=env, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    log.seek(0)
    said = log.read().decode(errors="replace").strip().splitlines()[-5:]
    raise SystemExit(f"gunicorn {app} did not start:\n" + "\n".join(said))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_bare_http(count: int) -> list[float]:
    port = _free_port()
    proc = _gunicorn("bench_steps:bare_wsgi", port, dict(os.environ))
    try:
        transport = HttpTransport(f"http://127.0.0.1:{port}")
        times = []
        for _ in range(count):
            started = time.perf_counter()
            transport.post(f"http://127.0.0.1:{port}/bare?n=1", FORM, {})
            times.append(time.perf_counter() - started)
        return times
    finally:
        proc.terminate()
        proc.wait()


def run_calls(phone: Softphone, services, calls: int, first: int = 0) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    worker = threading.Thread(target=Worker(services).run, args=(stop, 0.005))
    worker.start()
    try:
        for n in range(first, first + calls):
            esn = f"1381{n:07d}"  # fresh handsets, none active
            keys = keys_for(esn)
            call = phone.dial(from_="+15005550006", to="+15005550000")
            for key in keys:
                call.press(key)
            assert call.ended and call.transfer is None, call.heard[-3:]
    finally:
        stop.set()
        worker.join()
    # What the last call queued after its goodbye (billing, E911) is its work too: run here,
    # not by the next run's worker.
    Worker(services).drain()


def report(
    title: str,
    times: dict[str, list[float]],
    per_call: dict[str, float],
    bare: list[float],
    calls: int,
) -> None:
    bare_ms = statistics.median(bare) * 1000
    print(f"{title}; bare Flask TwiML view: {bare_ms:.3f} ms median")
    print(f"{'step':<14}{'webhooks':>9}{'median ms':>11}{'p90 ms':>9}{'x bare':>8}")
    for step, spent in sorted(times.items(), key=lambda kv: -statistics.median(kv[1])):
        med = statistics.median(spent) * 1000
        p90 = sorted(spent)[min(len(spent) - 1, int(len(spent) * 0.9))] * 1000
        print(f"{step:<14}{len(spent):>9}{med:>11.3f}{p90:>9.3f}{med / bare_ms:>8.1f}")
    whole = statistics.median([t * 1000 for t in per_call.values()])
    hooks = sum(len(v) for v in times.values()) / calls
    print(
        f"whole call: {whole:.1f} ms over {hooks:.0f} webhooks = "
        f"{whole / (bare_ms * hooks):.1f} x the same number of bare replies\n"
    )


bare_wsgi = bare_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--http",
        action="store_true",
        help="also measure round trips over HTTP to gunicorn, as Twilio sees them",
    )
    args = parser.parse_args()
    engine = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    with demo_cas(args.database_url, "cas-bench") as cas:
        services, app, tmp = cas.services, cas.app, cas.data_dir
        timer = StepTimer(app, services)
        app.wsgi_app = timer  # type: ignore[method-assign]
        run_calls(Softphone(FlaskTransport(app), "/voice", pause_scale=0.02), services, args.calls)
        bare = time_bare(sum(len(v) for v in timer.times.values()))
        if args.database_url.startswith("postgresql"):
            floor = statistics.median(time_floor(len(bare), args.database_url)) * 1000
            bare_ms = statistics.median(bare) * 1000
            print(
                f"floor of bench_load (one locked row update a webhook) in-process: "
                f"{floor:.3f} ms median = {floor / bare_ms:.1f} x the bare view"
            )
        report(
            f"server time in-process, {args.calls} whole calls on {engine}",
            timer.times,
            timer.per_call,
            bare,
            args.calls,
        )
        if args.http:
            port = _free_port()
            env = {
                **os.environ,
                "CAS_DATA_DIR": str(tmp),
                "CAS_SECRET_KEY": "bench",
                "CAS_HOLD_PAUSE": "1",
                "CAS_DATABASE_URL": args.database_url,
                "CAS_LOG_FORMAT": "text",
                "CAS_PARTNERS": "simulated",  # the outside parties, as in-process
            }
            web = _gunicorn("ivr:create_app()", port, env)
            try:
                timed = TimedTransport(HttpTransport(f"http://127.0.0.1:{port}"), services)
                phone = Softphone(timed, "/voice", pause_scale=0.02)
                run_calls(phone, services, args.calls, first=args.calls)
            finally:
                web.terminate()
                web.wait()
            bare_http = time_bare_http(sum(len(v) for v in timed.times.values()))
            report(
                f"round trip over HTTP to gunicorn, {args.calls} whole calls on {engine}",
                timed.times,
                timed.per_call,
                bare_http,
                args.calls,
            )


if __name__ == "__main__":
    main()
