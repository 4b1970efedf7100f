"""`cas switch-sim`: run a simulated switch until killed.

The first line on standard output says where it listens, for people and programs alike:

    listening socket://127.0.0.1:40123 control 127.0.0.1:40124

(``listening /dev/pts/7 control -`` on a pty without a control port).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import click

from switch_adapters.simulator.control import ControlServer
from switch_adapters.simulator.server import HANDLERS, SimulatorServer, Switch
from switch_adapters.simulator.store import Store


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def fault_commands(
    delay: float | None,
    deny: int | None,
    deny_code: str,
    drop: int | None,
    garbage: int | None,
    silent: float | None,
    faults: tuple[str, ...] = (),
) -> list[str]:
    """Turn the fault flags into the control port's commands."""
    commands = list(faults)
    if delay is not None:
        commands.append(f"delay {delay}")
    if deny is not None:
        commands.append(f"deny {deny} {deny_code}".strip())
    if drop is not None:
        commands.append(f"drop {drop}")
    if garbage is not None:
        commands.append(f"garbage {garbage}")
    if silent is not None:
        commands.append(f"silent {silent}")
    return commands


@click.command("switch-sim")
@click.option("--dialect", type=click.Choice(sorted(HANDLERS)), default="tl1", show_default=True)
@click.option("--listen", default="127.0.0.1:0", show_default=True, help="TCP HOST:PORT (0: any)")
@click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Subscriber database file (created if missing).",
)
@click.option("--pty", is_flag=True, help="Listen on a new pty instead of TCP.")
@click.option("--rfc2217", is_flag=True, help="Speak RFC 2217 on TCP, as a terminal server.")
@click.option("--name", default="", help="Log-on name clients must give (none: no log-on).")
@click.option("--secret", default="", help="Log-on secret.")
@click.option("--sid", default="", help="The switch's own name (TL1 target identifier).")
@click.option("--control", default=None, help="HOST:PORT of the fault-control port.")
@click.option("--delay", type=float, default=None, help="Answer every command after N seconds.")
@click.option("--deny", type=int, default=None, help="Refuse the first K commands.")
@click.option("--deny-code", default="", help="Error code given with --deny.")
@click.option("--drop", type=int, default=None, help="Hang up mid-answer K times.")
@click.option("--garbage", type=int, default=None, help="Answer K commands with noise.")
@click.option("--silent", type=float, default=None, help="Say nothing for N seconds (0: ever).")
@click.option("--fault", "faults", multiple=True, help="A fault command, as on the control port.")
@click.option("--rept-every", type=int, default=5, show_default=True, help="REPT every N answers.")
@click.option("--part-size", type=int, default=100, show_default=True, help="Records per part.")
@click.option("--watch-parent", is_flag=True, hidden=True, help="Exit when stdin closes.")
@click.option("-v", "--verbose", is_flag=True, help="Log every line and control command.")
def switch_sim(
    dialect: str,
    listen: str,
    store_path: Path,
    pty: bool,
    rfc2217: bool,
    name: str,
    secret: str,
    sid: str,
    control: str | None,
    delay: float | None,
    deny: int | None,
    deny_code: str,
    drop: int | None,
    garbage: int | None,
    silent: float | None,
    faults: tuple[str, ...],
    rept_every: int,
    part_size: int,
    watch_parent: bool,
    verbose: bool,
) -> None:
    """Run a simulated switch speaking DIALECT, keeping its subscribers in the store file."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    switch = Switch(
        dialect,
        store_path,
        sid=sid,
        logon_name=name,
        secret=secret,
        part_size=max(1, part_size),
        rept_every=max(0, rept_every),
    )
    for command in fault_commands(delay, deny, deny_code, drop, garbage, silent, faults):
        try:
            switch.faults.apply(command)
        except ValueError as exc:
            raise click.BadParameter(f"{command}: {exc}") from exc
    Store(store_path).close()  # creates the file and its schema before anyone connects
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    # Before the listening line: whoever reads it may stop us at once.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = SimulatorServer(switch)
    url = server.listen_pty() if pty else server.listen_tcp(*_host_port(listen), rfc2217=rfc2217)
    controller = ControlServer(switch, *_host_port(control)) if control else None
    click.echo(f"listening {url} control {controller.address if controller else '-'}")
    sys.stdout.flush()

    if watch_parent:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
    while not stop.wait(0.05):
        pass
    if controller is not None:
        controller.stop()
    server.stop()


def _watch_stdin(stop: threading.Event) -> None:
    """Stop when standard input closes: the process that started us is gone."""
    # Raw reads on the descriptor: a thread blocked in sys.stdin would hold its lock at exit.
    while os.read(0, 1024):
        pass
    stop.set()


__all__ = ["switch_sim"]


@click.command("switch-fault")
@click.argument("control")
@click.argument("command", nargs=-1, required=True)
def switch_fault(control: str, command: tuple[str, ...]) -> None:
    """Send a fault COMMAND (e.g. `silent 40`, `deny 1`, `clear`) to a simulator's CONTROL port."""
    host, port = _host_port(control)
    try:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(" ".join(command).encode() + b"\n")
            with sock.makefile("rb") as stream:
                reply = stream.readline().decode().strip()
    except OSError as exc:
        raise click.ClickException(f"no simulator control port at {control}: {exc}") from exc
    click.echo(reply or "no answer")
    if not reply.startswith("ok"):
        raise SystemExit(1)
