"""The `cas` command: the domain's commands plus serve, dial and demo."""

from __future__ import annotations

import os
import sys

import click

from activation.cli import cas, settings_for


@cas.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def serve(host: str, port: int, workers: int, data_dir: str | None) -> None:
    """Serve the webhooks with gunicorn."""
    settings_for(data_dir)
    os.execv(sys.executable, [sys.executable, *gunicorn_args(host, port, workers)])


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
        "ivr:create_app()",
    ]


def _mount() -> None:
    from .demo import demo
    from .dial_cli import dial

    cas.add_command(demo)
    cas.add_command(dial)


_mount()


def main() -> None:
    """Run the cas command line."""
    cas()
