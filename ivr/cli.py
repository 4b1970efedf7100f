"""The `cas` command: the domain's commands plus serve, dial and demo."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from activation.cli import cas, settings_for


@cas.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
def serve(host: str, port: int, workers: int, data_dir: str | None) -> None:
    """Serve the webhooks with gunicorn."""
    settings = settings_for(data_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(settings.data_dir))
    os.execv(sys.executable, [sys.executable, *gunicorn_args(host, port, workers)])


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
        "ivr:create_app()",
    ]


def _mount() -> None:
    from . import telephony
    from .console.cli import COMMANDS
    from .demo import demo
    from .dial_cli import dial

    telephony.install()  # call-backs placed by `cas worker` go out through Twilio
    cas.add_command(demo)
    cas.add_command(dial)
    for command in COMMANDS:
        cas.add_command(command)


_mount()


def main() -> None:
    """Run the cas command line."""
    cas()
