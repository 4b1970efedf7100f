"""What the in-process PostgreSQL benchmarks stand on: a scratch database with CAS's demo data,
its services and app, and the HOU1 switch served by the TL1 simulator."""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from activation.services import Services
from activation.settings import Settings
from activation.store.models import Switch
from activation.store.setup import init_database
from ivr import create_app
from ivr.bootstrap import bootstrap

Measured = TypeVar("Measured")


def database_url_option(parser: argparse.ArgumentParser) -> None:
    """Add --database-url: the PostgreSQL server the scratch database is made on."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CAS_TEST_POSTGRES_URL", "")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )


@dataclass
class Scratch:
    """CAS on a benchmark's database: its URL, its data dir, its services and its app."""

    url: str
    data_dir: Path
    services: Services
    app: Flask


@contextmanager
def demo_cas(database_url: str, prefix: str) -> Iterator[Scratch]:
    """CAS with the demo data on a database (SQLite in a new data dir if none is named), HOU1
    on the TL1 simulator until the block ends."""
    from switch_adapters.simulator.process import start_simulator

    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    settings = Settings(data_dir=tmp, database_url=database_url, secret_key="bench", hold_pause=1)
    init_database(settings, demo=True)
    services = bootstrap(settings)
    with start_simulator("tl1", tmp / "hou1.sqlite3", name="cas", secret="hou1-secret") as sim:
        with services.db.transaction() as session:
            session.query(Switch).filter_by(name="HOU1").one().primary_url = sim.url
        yield Scratch(database_url, tmp, services, create_app(services=services))


@contextmanager
def scratch_cas(server_url: str, prefix: str) -> Iterator[Scratch]:
    """`demo_cas` on a new database of a PostgreSQL server, dropped when the block ends:
    whatever else is measured on it (the floor) goes inside the block, after
    `services.db.dispose()`."""
    server = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with demo_cas(
            server.set(database=name).render_as_string(hide_password=False), prefix
        ) as cas:
            yield cas
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure_posts(
    app: Flask,
    url: str,
    times: int,
    form: dict[str, str],
    measure: Callable[[Callable[[], Iterable[bytes]]], tuple[list[bytes], Measured]],
) -> list[Measured]:
    """Post the same webhook `times` times in-process, each measured inside the app (the test
    client's own work left out) by `measure`, given the call that answers it."""
    inner, measured = app.wsgi_app, []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body, seen = measure(lambda: inner(environ, start_response))
        measured.append(seen)
        return body

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    client = app.test_client()
    for _ in range(times):
        client.post(url, data=form)
    return measured
