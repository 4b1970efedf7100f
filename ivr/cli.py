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

from activation.settings import PartnersNotConfigured, Settings, settings_for


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def cas(verbose: bool) -> None:
    """CAS, the customer activation system."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


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
    from activation.jobs import scheduler as schedule
    from activation.jobs.worker import Worker

    from .bootstrap import bootstrap

    services = bootstrap(require_partners(settings_for(data_dir)))
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
    click.echo(f"worker running with {threads} threads on {services.settings.db_url}")
    stop.wait()
    if running is not None:
        schedule.stop(running)
    for thread in pool:
        thread.join(timeout=services.settings.switch_deadline + 5)


@cas.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def serve(host: str, port: int, workers: int, data_dir: str | None) -> None:
    """Serve the webhooks with gunicorn."""
    settings = require_partners(settings_for(data_dir))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(settings.data_dir))
    os.execv(sys.executable, [sys.executable, *gunicorn_args(host, port, workers)])


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


def gunicorn_args(host: str, port: int, workers: int) -> list[str]:
    """Return the command line that runs the app under gunicorn."""
    return [
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--timeout",
        "30",
        "--access-logfile",
        "-",
        "--logger-class",
        "ivr.gunicorn_logging.RedactingLogger",
        "ivr:create_app()",
    ]


def _mount() -> None:
    from activation.parties.sim_cli import partner_sim
    from switch_adapters.simulator.cli import switch_fault, switch_sim

    from .compare_cli import compare
    from .console.cli import COMMANDS
    from .demo import demo
    from .dial_cli import dial

    cas.add_command(switch_sim, "switch-sim")
    cas.add_command(switch_fault)
    cas.add_command(partner_sim)
    cas.add_command(compare)
    cas.add_command(demo)
    cas.add_command(dial)
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
