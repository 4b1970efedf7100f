"""`cas demo`: the whole product on a fresh SQLite file, with switch simulators, in one command."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import click
import requests
from sqlalchemy import select

from activation.parties.sim_process import PartnerSims
from activation.parties.switching import definition
from activation.secrets import Vault, load_master_secret
from activation.settings import settings_for
from activation.store.db import Database
from activation.store.models import Switch
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap

# The demo's own Twilio account, served by a local stand-in: no real calls are placed.
DEMO_ACCOUNT_SID = "AC" + "d" * 32
DEMO_AUTH_TOKEN = "demo-auth-token"
DEMO_PARTNER_TOKEN = "demo-partner-token"

WALKTHROUGH = """
CAS is running.  Web server: {url}   Data: {data_dir}

Dial in from another terminal (the softphone calls the server as Twilio would, signing
every webhook with the demo's auth token):

    .venv/bin/cas dial --url {url} --auth-token {token}

Then, at the prompts:  agent ID 1001 #   PIN 2468 #   # (new transaction)   2 (continue)
ESN 13803186457 #   1 (individual)   SSN 123456789 #   1 (confirm)   1 (name right)
rate plan 10 #   NPA-NXX 713555 #   1 (confirm)   ... and you hear the new number 713-555-xxxx.

To hear a delayed assignment, silence HOU1 before the last key (its fault port is listed
below): `.venv/bin/cas switch-fault HOST:PORT silent 40`. Key 3 for a call-back and CAS
calls the agent back, through a local stand-in for Twilio's API, once the number is active.
Answer it as the agent with:

    .venv/bin/cas dial --answer-callback {phone} --auth-token {token}

Switches:
  {switches}

Outside parties (simulator processes, reached over HTTP as a carrier's would be):
  {partners}

CSR console: {url}/console  (log in as {users})
Press Ctrl-C to stop.
"""


def _start_switches(stack: ExitStack, data_dir: Path, db: Database, vault: Vault) -> list[str]:
    from switch_adapters.simulator.process import start_simulator

    started = []
    with db.transaction() as session:
        for switch in session.scalars(select(Switch).order_by(Switch.name)):
            sim = None
            if switch.dialect == "osmo-hlr":
                url = _start_osmo_hlr(stack, data_dir)
                if url is None:
                    continue
            else:
                sim = start_simulator(
                    switch.dialect,
                    data_dir / f"switch-{switch.name}.sqlite3",
                    name=switch.logon_name,
                    secret=definition(switch, vault).logon_secret,
                )
                stack.callback(sim.stop)
                url = sim.url
            switch.primary_url, switch.active = url, True
            control = f", faults: cas switch-fault {sim.control_address}" if sim else ""
            started.append(f"{switch.name} ({switch.dialect}) at {url}{control}")
    return started


def _start_partners(stack: ExitStack, data_dir: Path) -> PartnerSims:
    """Start the bureau, PVS, billing and E911 simulators; CAS reaches them by env.update."""
    from activation.parties.sim_process import start_partner_sims

    partners = start_partner_sims(data_dir / "partners", DEMO_PARTNER_TOKEN)
    stack.callback(partners.stop)
    return partners


def _start_osmo_hlr(stack: ExitStack, data_dir: Path) -> str | None:
    try:
        from switch_adapters.osmo_hlr_daemon import start_osmo_hlr
    except ImportError:
        return None
    if shutil.which("osmo-hlr") is None:
        return None
    daemon = start_osmo_hlr(data_dir / "osmo-hlr")
    if daemon is None:
        return None
    stack.callback(daemon.stop)
    return daemon.ctrl_url


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException("the web server exited; see its log above")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise click.ClickException(f"the web server did not answer at {url}")


@click.command()
@click.option("--port", default=8000, show_default=True, help="Port of the web server.")
@click.option(
    "--data-dir",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the demo keeps its files.",
)
def demo(port: int, data_dir: str) -> None:
    """Run CAS with demo data: switch simulators, worker and web server on a fresh database."""
    settings = settings_for(data_dir)
    for stale in settings.data_dir.glob("*.sqlite3*"):
        stale.unlink()
    shutil.rmtree(settings.data_dir / "billing", ignore_errors=True)
    shutil.rmtree(settings.data_dir / "partners", ignore_errors=True)
    init_database(settings, demo=True)
    db = Database(settings.db_url)
    from ivr.cli import metrics_dir
    from ivr.console import ensure_demo_users

    env = {
        **os.environ,
        "CAS_DATA_DIR": str(settings.data_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(settings.data_dir)),
    }
    cas = [sys.executable, "-m", "ivr"]
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        from ivr.fake_twilio import FakeTwilio

        network = FakeTwilio(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN).start()
        stack.callback(network.stop)
        env.update(
            TWILIO_ACCOUNT_SID=DEMO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN,
            CAS_TWILIO_API_URL=network.url,
            CAS_PUBLIC_URL=url,
            CAS_CALLER_ID="+15005550000",
        )
        env.setdefault("CAS_METRICS_TOKEN", secrets.token_urlsafe(16))
        vault = Vault(load_master_secret(settings.secret_key, settings.data_dir))
        switches = _start_switches(stack, settings.data_dir, db, vault)
        partners = _start_partners(stack, settings.data_dir)
        env.update(partners.env)
        settings = partners.configure(settings)
        db.dispose()
        services = bootstrap(settings)
        users = ensure_demo_users(services)
        services.db.dispose()
        worker = subprocess.Popen([*cas, "worker"], env=env)
        stack.callback(_stop, worker)
        from ivr.cli import gunicorn_args

        web = subprocess.Popen([sys.executable, *gunicorn_args("127.0.0.1", port, 2)], env=env)
        stack.callback(_stop, web)
        _wait_healthy(url, web)
        click.echo(
            WALKTHROUGH.format(
                url=url,
                token=DEMO_AUTH_TOKEN,
                phone=network.url,
                data_dir=settings.data_dir,
                switches="\n  ".join(switches),
                partners="\n  ".join(partners.lines()),
                users=", ".join(f"{name}/{password} ({role})" for name, role, password in users),
            )
        )
        bearer = f"Authorization: Bearer {env['CAS_METRICS_TOKEN']}"
        click.echo(f"Metrics (Prometheus): curl -H '{bearer}' {url}/metrics")
        try:
            while worker.poll() is None and web.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            click.echo("stopping")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
