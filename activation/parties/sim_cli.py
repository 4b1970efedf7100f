"""`cas partner-sim`: run a partner simulator, or tell one to misbehave.

    cas partner-sim bureau  --listen 127.0.0.1:8101
    cas partner-sim pvs     --listen 127.0.0.1:8102
    cas partner-sim billing --listen 127.0.0.1:8103 --store var/partners/billing
    cas partner-sim e911    --listen 127.0.0.1:8104 --store var/partners/e911
    cas partner-sim warehouse --listen 127.0.0.1:8105 --store var/partners/warehouse
    cas partner-sim fault http://127.0.0.1:8103 slow 30     (down [K], garbage [K], clear)

The first line on standard output says where it listens, for people and programs alike:
`listening http://127.0.0.1:8103`. With CAS_PARTNER_SIM_TOKEN (or --user and
CAS_PARTNER_SIM_PASSWORD) set, every request must carry those credentials, the fault
commands too. Run as `python -m activation.parties.sim_cli` as well.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx

from activation.keyed import is_digits
from activation.parties.billing import BillingDesk
from activation.parties.bureau import BureauDesk
from activation.parties.desk import CONTROL_PATH, Desk
from activation.parties.e911 import E911Desk
from activation.parties.pvs import PvsDesk
from activation.parties.sim_server import PartnerServer
from activation.parties.warehouse import WarehouseDesk


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not is_digits(port, 1, 5):
        raise click.BadParameter(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def _default_store(party: str) -> Path:
    return Path(os.environ.get("CAS_DATA_DIR", "var")) / "partners" / party


def _options(with_store: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--listen", default="127.0.0.1:0", show_default=True, help="HOST:PORT"),
            click.option(
                "--token", envvar="CAS_PARTNER_SIM_TOKEN", default="", help="Bearer token."
            ),
            click.option("--user", default="", help="User of basic credentials."),
            click.option("--password", envvar="CAS_PARTNER_SIM_PASSWORD", default=""),
            click.option("--fault", "faults", multiple=True, help="A fault command at start."),
            click.option("--watch-parent", is_flag=True, hidden=True),
            click.option("-v", "--verbose", is_flag=True, help="Log every request."),
        ]
        if with_store:
            options.append(
                click.option(
                    "--store",
                    type=click.Path(file_okay=False, path_type=Path),
                    default=None,
                    help="Directory of its records (default: DATA_DIR/partners/PARTY).",
                )
            )
        else:
            options.append(
                click.option(
                    "--data",
                    type=click.Path(dir_okay=False, exists=True, path_type=Path),
                    default=None,
                    help="JSON file it answers from (default: the demo's, in data/demo).",
                )
            )
        for option in reversed(options):
            command = option(command)
        return command

    return wrap


@click.group("partner-sim")
def partner_sim() -> None:
    """Run a simulator of an outside party (bureau, pvs, billing, e911, warehouse), or inject a
    fault."""


def _run(desk: Desk, listen: str, faults: tuple[str, ...], watch: bool, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for command in faults:
        try:
            desk.faults.apply(command)
        except ValueError as exc:
            raise click.BadParameter(f"{command}: {exc}") from exc
    stop = threading.Event()
    # Before the listening line: whoever reads it may stop us at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        server = PartnerServer(desk, *_host_port(listen)).start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen}: {exc.strerror}") from exc
    click.echo(f"listening {server.url}")
    sys.stdout.flush()
    if watch:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
    stop.wait()
    server.stop()


def _watch_stdin(stop: threading.Event) -> None:
    """Stop when standard input closes: the process that started us is gone."""
    while os.read(0, 1024):
        pass
    stop.set()


@partner_sim.command("bureau")
@_options(with_store=False)
def bureau(data: Path | None, **run: Any) -> None:
    """A credit bureau answering from data/demo/bureau.json."""
    creds = {name: run.pop(name) for name in ("token", "user", "password")}
    desk = BureauDesk(data, **creds) if data else BureauDesk(**creds)
    _run(desk, run["listen"], run["faults"], run["watch_parent"], run["verbose"])


@partner_sim.command("pvs")
@_options(with_store=False)
def pvs(data: Path | None, **run: Any) -> None:
    """A positive validation system listing the ESNs of data/demo/pvs.json."""
    creds = {name: run.pop(name) for name in ("token", "user", "password")}
    desk = PvsDesk(data, **creds) if data else PvsDesk(**creds)
    _run(desk, run["listen"], run["faults"], run["watch_parent"], run["verbose"])


@partner_sim.command("billing")
@_options(with_store=True)
def billing(store: Path | None, **run: Any) -> None:
    """A billing system keeping one record per transaction in its store directory."""
    creds = {name: run.pop(name) for name in ("token", "user", "password")}
    desk = BillingDesk(store or _default_store("billing"), **creds)
    _run(desk, run["listen"], run["faults"], run["watch_parent"], run["verbose"])


@partner_sim.command("e911")
@_options(with_store=True)
def e911(store: Path | None, **run: Any) -> None:
    """An E911 provider keeping one registration per number in its store directory."""
    creds = {name: run.pop(name) for name in ("token", "user", "password")}
    desk = E911Desk(store or _default_store("e911"), **creds)
    _run(desk, run["listen"], run["faults"], run["watch_parent"], run["verbose"])


@partner_sim.command("warehouse")
@_options(with_store=True)
def warehouse(store: Path | None, **run: Any) -> None:
    """Headquarters' warehouse keeping every re-order it took in its store directory."""
    creds = {name: run.pop(name) for name in ("token", "user", "password")}
    desk = WarehouseDesk(store or _default_store("warehouse"), **creds)
    _run(desk, run["listen"], run["faults"], run["watch_parent"], run["verbose"])


@partner_sim.command("fault")
@click.argument("url")
@click.argument("command", nargs=-1, required=True)
@click.option("--token", envvar="CAS_PARTNER_SIM_TOKEN", default="", help="Its bearer token.")
def fault(url: str, command: tuple[str, ...], token: str) -> None:
    """Tell the simulator at URL to misbehave: `down [K]`, `slow SECONDS [K]`, `garbage [K]`,
    `clear`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.post(
            url.rstrip("/") + CONTROL_PATH,
            json={"command": " ".join(command)},
            headers=headers,
            timeout=10,
            trust_env=False,
        )
        said = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise click.ClickException(f"no partner simulator at {url}: {exc}") from exc
    if answer.status_code != 200:
        raise click.ClickException(f"refused: {said.get('message', answer.status_code)}")
    click.echo(f"ok faults: {said['faults']}")


if __name__ == "__main__":
    partner_sim()
