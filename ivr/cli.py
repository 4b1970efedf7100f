"""The `cas` command: every command of the README, mounted on one click group."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import click

from activation.settings import PartnersNotConfigured, Settings

from .cli_support import existing_settings, require_database, settings_for

# Commands that run until stopped log as servers do (CAS_LOG_FORMAT); the others are a
# person's, in plain text, warnings only unless -v.
SERVERS = frozenset({"worker", "serve", "switch-sim", "partner-sim"})


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.pass_context
def cas(ctx: click.Context, verbose: bool) -> None:
    """CAS, the customer activation system."""
    from .log_setup import configure

    if ctx.invoked_subcommand in SERVERS:
        configure(None, logging.DEBUG if verbose else logging.INFO)
    else:
        configure("text", logging.DEBUG if verbose else logging.WARNING)


@cas.command("init-db")
@click.option("--demo", is_flag=True, help="Load the demo agents, handsets, plans and switches.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def init_db(demo: bool, data_dir: str | None) -> None:
    """Create the database (or bring it to the newest schema) and load data/."""
    from activation.store.setup import init_database

    settings = settings_for(data_dir)
    init_database(settings, demo)
    click.echo(f"database ready: {settings.db_url}" + (" (demo data)" if demo else ""))


@cas.command()
@click.option("--threads", default=2, show_default=True, help="Activities run at once.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
@click.option(
    "--scheduler/--no-scheduler", default=True, help="Run the sweeps and the nightly jobs too."
)
def worker(threads: int, data_dir: str | None, scheduler: bool) -> None:
    """Run due activities (credit checks, switch inserts, billing) until stopped."""
    from sqlalchemy import make_url

    from activation.jobs import scheduler as schedule
    from activation.jobs.worker import Worker

    from .bootstrap import bootstrap

    services = bootstrap(require_database(require_partners(settings_for(data_dir))))
    if not services.settings.public_url:
        # The web server can learn its URL from a proxy's headers; the worker has no request.
        logging.getLogger("cas.worker").warning(
            "CAS_PUBLIC_URL is not set: call-backs cannot be placed (Twilio must be given "
            "their webhooks' URL); an agent who asks for one goes to a CSR when its attempts "
            "run out"
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    pool = [
        threading.Thread(target=Worker(services).run, args=(stop,), daemon=True)
        for _ in range(threads)
    ]
    for thread in pool:
        thread.start()
    running = schedule.start(services) if scheduler else None
    database = make_url(services.settings.db_url).render_as_string(hide_password=True)
    logging.getLogger("cas.worker").info("worker running with %d threads on %s", threads, database)
    stop.wait()
    if running is not None:
        schedule.stop(running)
    for thread in pool:
        thread.join(timeout=services.settings.switch_deadline + 5)
    services.switches.close()  # log off the switch sessions kept between activities


@cas.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def serve(host: str, port: int, workers: int, data_dir: str | None) -> None:
    """Serve the webhooks with gunicorn."""
    settings = require_database(require_partners(settings_for(data_dir)))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(settings.data_dir))
    os.execv(sys.executable, [sys.executable, *gunicorn_args(f"{host}:{port}", workers)])


def require_partners(settings: Settings) -> Settings:
    """Refuse to start with an outside party unconfigured (unless CAS_PARTNERS=simulated)."""
    problems = settings.partner_problems()
    if problems:
        raise click.ClickException(str(PartnersNotConfigured(problems)))
    return settings


def metrics_dir(data_dir: Path) -> Path:
    """Empty the folder where gunicorn's workers share their metrics, and return it."""
    path = data_dir / "prometheus"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def gunicorn_args(bind: str, workers: int) -> list[str]:
    """Return the command line that runs the app under gunicorn, bound to HOST:PORT or fd://N."""
    return [
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--timeout",
        "30",
        "--access-logfile",
        "-",
        "--logger-class",
        "ivr.gunicorn_logs.GunicornLogger",
        # One control socket per user would be shared by every gunicorn of that user: none.
        "--no-control-socket",
        "ivr:create_app()",
    ]


@cas.command()
@click.argument("code")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def letter(code: str, data_dir: str | None) -> None:
    """Write the welcome letter of transaction CODE now, and say where it is."""
    from activation.followup.letters import NoLetter, write_one

    from .bootstrap import bootstrap

    if not code.isdigit():
        raise click.BadParameter("a transaction code is digits only", param_hint="CODE")
    services = bootstrap(existing_settings(data_dir))
    try:
        path = write_one(services, code)
    except NoLetter as refused:
        raise click.ClickException(str(refused)) from None
    finally:
        services.db.dispose()
    click.echo(f"welcome letter of transaction {code}: {path.resolve()}")


def _mount() -> None:
    from activation.parties.sim_cli import partner_sim
    from switch_adapters.simulator.cli import switch_fault, switch_sim

    from .compare_cli import compare
    from .console.cli import COMMANDS
    from .demo import demo
    from .dial_cli import dial
    from .inventory_cli import inventory
    from .twilio_setup import twilio_setup

    cas.add_command(switch_sim, "switch-sim")
    cas.add_command(switch_fault)
    cas.add_command(partner_sim)
    cas.add_command(compare)
    cas.add_command(demo)
    cas.add_command(dial)
    cas.add_command(twilio_setup)
    cas.add_command(inventory)
    for command in COMMANDS:
        cas.add_command(command)


_mount()


def main() -> None:
    """Run the cas command line."""
    try:
        cas()
    except PartnersNotConfigured as refused:  # any command that builds the services
        click.echo(f"Error: {refused}", err=True)
        raise SystemExit(2) from None
