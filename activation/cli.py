"""The `cas` commands of the domain: init-db, worker, switch-sim."""

from __future__ import annotations

import logging
import os
import signal
import threading

import click
from sqlalchemy import select

from . import schema, seed
from .db import Database
from .models import Agent
from .secrets import Vault, load_master_secret
from .settings import Settings


def settings_for(data_dir: str | None) -> Settings:
    """Settings from the environment, with the data dir given on the command line."""
    if data_dir:
        os.environ["CAS_DATA_DIR"] = data_dir
    return Settings.from_env()


def init_database(settings: Settings, demo: bool) -> None:
    """Create or upgrade the schema and load reference (and demo) data once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    vault = Vault(load_master_secret(settings.secret_key, settings.data_dir))
    schema.upgrade(settings.db_url, vault)
    db = Database(settings.db_url)
    try:
        with db.transaction() as session:
            seed.load_reference(session)
            if demo and session.scalar(select(Agent.id).limit(1)) is None:
                seed.load_demo(session, vault)
    finally:
        db.dispose()


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
    from . import scheduler as schedule
    from .services import bootstrap
    from .worker import Worker

    services = bootstrap(settings_for(data_dir))
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


def _mount() -> None:
    from switch_adapters.simulator.cli import switch_fault, switch_sim

    from .comparison_cli import compare

    cas.add_command(switch_sim, "switch-sim")
    cas.add_command(switch_fault)
    cas.add_command(compare)


_mount()
