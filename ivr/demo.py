"""`cas demo`: the whole product with demo data, switch simulators, worker and web server.

The demo keeps its data in the default data dir (CAS_DATA_DIR, else var in the current
folder), so `cas compare`, `cas api-key add` or `cas dial` run from the same folder find it;
a restart goes on with the same data and `--fresh` starts over. Every child (web server,
worker, switch and partner simulators, osmo-hlr) is supervised: one that dies is restarted,
and SIGTERM or Ctrl-C stops them all. Their logs go to DATA_DIR/logs; the terminal gets the
demo's own lines only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from types import FrameType

import click
import requests

from activation.settings import Settings
from activation.store.setup import init_database
from ivr.demo_folder import DemoCard, FolderRefused, claim
from ivr.demo_partners import start_partners
from ivr.demo_switches import start_switches
from ivr.supervisor import Spawned, Supervisor

# The demo's own Twilio account, served by a local stand-in: no real calls are placed.
DEMO_ACCOUNT_SID = "AC" + "d" * 32
DEMO_AUTH_TOKEN = "demo-auth-token"
DEMO_PARTNER_TOKEN = "demo-partner-token"
HOST = "127.0.0.1"

WALKTHROUGH = """
CAS is running.  Web server: {url}   Data: {data_dir} (kept; --fresh starts over)

Dial in from another terminal in this folder (the softphone calls the server as Twilio
would, signing every webhook with the demo's auth token, which it finds in {card}):

    .venv/bin/cas dial

Then, at the prompts:  agent ID 1001 #   PIN 2468 #   # (new transaction)   2 (continue)
ESN 13803186457 #   1 (confirm)   1 (individual)   SSN 123456789 #   1 (confirm)
1 (name right)   rate plan 10 #   1 (confirm)   NPA-NXX 713555 #   1 (confirm)
... and you hear the new number 713-555-xxxx. (* at the first prompt: en español.)

To hear a delayed assignment, silence HOU1 before the last key (its fault port is listed
below): `.venv/bin/cas switch-fault HOST:PORT silent 40`. Key 3 for a call-back and CAS
calls the agent back, through a local stand-in for Twilio's API, once the number is active.
Answer it as the agent with:

    .venv/bin/cas dial --answer-callback

Switches:
  {switches}

Outside parties (simulator processes, reached over HTTP as a carrier's would be):
  {partners}

CSR console: {url}/console  (log in as {users})
Logs: {logs}
Press Ctrl-C to stop.
"""


def say(text: str) -> None:
    """Print one line of the demo's own, stamped with the time."""
    click.echo(f"{datetime.now():%H:%M:%S} {text}")


def listen(port: int) -> socket.socket:
    """Bind the web server's port now, or refuse naming it; gunicorn gets this very socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"port {port} on {HOST} is already in use ({exc.strerror}): another program (or "
            "another demo) listens there. Stop it, or start the demo on another port with "
            "--port N."
        ) from None
    sock.set_inheritable(True)
    return sock


def stop_on_signals(stack: ExitStack) -> threading.Event:
    """Return an event set by SIGTERM, SIGINT (Ctrl-C) or SIGHUP; handlers restored on exit."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous = signal.signal(signum, handler)
        stack.callback(signal.signal, signum, previous)
    return stop


class Stopped(Exception):
    """Asked to stop while starting."""


def wait_healthy(url: str, web: Callable[[], int | None], log: Path, stop: threading.Event):
    """Wait until the web server answers its health check (it may be restarting meanwhile)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if stop.is_set():
            raise Stopped
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if web() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise click.ClickException(f"the web server exited at start; {log} ends:\n{tail}")
        stop.wait(0.3)
    raise click.ClickException(f"the web server did not answer at {url}; see {log}")


def child_env(settings: Settings, phone_url: str, url: str) -> dict[str, str]:
    """The environment of every child: the demo's data dir, account and stand-in network."""
    env = {k: v for k, v in os.environ.items() if k != "CAS_DATABASE_URL"}
    env.update(
        CAS_DATA_DIR=str(settings.data_dir),
        TWILIO_ACCOUNT_SID=DEMO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN,
        CAS_TWILIO_API_URL=phone_url,
        CAS_PUBLIC_URL=url,
        CAS_CALLER_ID="+15005550000",
    )
    return env


@click.command()
@click.option("--port", default=8000, show_default=True, help="Port of the web server.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the demo keeps its files  [default: CAS_DATA_DIR, else var].",
)
@click.option("--fresh", is_flag=True, help="Start over: empty the demo's data dir first.")
def demo(port: int, data_dir: str | None, fresh: bool) -> None:
    """Run CAS with demo data: switch simulators, worker and web server."""
    home = Path(data_dir or os.environ.get("CAS_DATA_DIR") or "var").resolve()
    # The demo is SQLite in its own folder, whatever CAS_DATABASE_URL names.
    settings = Settings.from_env(data_dir=home, database_url="")
    if os.environ.get("CAS_DATABASE_URL"):
        say(
            f"CAS_DATABASE_URL is set: the demo keeps to its own database in {_shown(home)}, "
            "which commands run with CAS_DATABASE_URL set do not see"
        )
    with ExitStack() as stack:
        web_socket = listen(port)
        stack.callback(web_socket.close)
        try:
            lock = claim(home, settings.db_url, fresh)
        except FolderRefused as refused:
            raise click.ClickException(str(refused)) from None
        stack.callback(lock.close)
        stop = stop_on_signals(stack)
        try:
            _run(settings, port, web_socket, stop, stack)
        except Stopped:
            pass
        say("stopping every process the demo started")
    say("stopped")


def _run(
    settings: Settings,
    port: int,
    web_socket: socket.socket,
    stop: threading.Event,
    stack: ExitStack,
) -> None:
    from ivr.bootstrap import bootstrap
    from ivr.cli import gunicorn_args, metrics_dir
    from ivr.console import ensure_demo_users
    from ivr.fake_twilio import FakeTwilio

    home = settings.data_dir
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    init_database(settings, demo=True)
    url = f"http://{HOST}:{port}"
    network = FakeTwilio(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN).start()
    stack.callback(network.stop)
    supervisor = Supervisor(say)
    stack.callback(supervisor.stop_all)
    switches = start_switches(supervisor, settings, logs)
    partners = start_partners(supervisor, home / "partners", DEMO_PARTNER_TOKEN)
    settings = partners.configure(settings)
    if stop.is_set():
        raise Stopped

    env = child_env(settings, network.url, url) | partners.env
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(home))
    env.setdefault("CAS_METRICS_TOKEN", _metrics_token(home))
    supervisor.add(
        "worker", lambda: Spawned([sys.executable, "-m", "ivr", "worker"], env, logs / "worker.log")
    )
    fd = web_socket.fileno()
    web_args = [sys.executable, *gunicorn_args(f"fd://{fd}", 2)]
    supervisor.add("web", lambda: Spawned(web_args, env, logs / "web.log", pass_fds=(fd,)))
    services = bootstrap(settings)  # while the web server boots
    users = ensure_demo_users(services)
    services.db.dispose()

    wait_healthy(url, lambda: _status(supervisor, "web"), logs / "web.log", stop)
    DemoCard(url, DEMO_AUTH_TOKEN, DEMO_ACCOUNT_SID, network.url, os.getpid(), partners.env).write(
        home
    )
    click.echo(
        WALKTHROUGH.format(
            url=url,
            data_dir=_shown(home),
            card=_shown(home / "demo.json"),
            switches="\n  ".join(switches),
            partners="\n  ".join(partners.lines()),
            users=", ".join(f"{name}/{password} ({role})" for name, role, password in users),
            logs=_shown(logs),
        )
    )
    bearer = f"Authorization: Bearer {env['CAS_METRICS_TOKEN']}"
    click.echo(f"Metrics (Prometheus): curl -H '{bearer}' {url}/metrics")
    while not stop.wait(0.5):
        supervisor.check()


def _metrics_token(home: Path) -> str:
    """The demo's /metrics token, kept in its data dir so a scraper's setting survives restarts."""
    path = home / "metrics.token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def _status(supervisor: Supervisor, name: str) -> int | None:
    """The exit status of a supervised child that has died and not yet been restarted."""
    for entry in supervisor.children:
        if entry.name == name and entry.child is not None:
            return entry.child.poll()
    return None


def _shown(path: Path) -> str:
    """A path as the person at the terminal would type it: relative to here when inside."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
