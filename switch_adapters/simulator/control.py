"""The simulator's control port: one-line commands in, one-line answers out.

Besides the fault commands of ``faults`` (``delay``, ``deny``, ``drop``, ``garbage``,
``silent``, ``rept``, ``gap``, ``clear``) it answers ``stats`` (the switch's counters and how
many subscribers it holds) and ``ping``. Every answer starts with ``ok`` or ``error``.
"""

from __future__ import annotations

import logging
import select
import socket
import threading

from switch_adapters.simulator.server import POLL_SECONDS, Switch

log = logging.getLogger(__name__)


def answer(switch: Switch, command: str) -> str:
    """Carry out one control command; return its one-line answer."""
    verb = command.strip().split(" ", 1)[0].lower()
    if verb == "ping":
        return "ok pong"
    if verb == "stats":
        count = switch.store().count()
        return f"ok {switch.stats.line()} subscribers={count}".replace("  ", " ")
    try:
        return switch.faults.apply(command)
    except ValueError as exc:
        return f"error {exc}"


class ControlServer:
    """Listen for control connections, one thread each."""

    def __init__(self, switch: Switch, host: str, port: int) -> None:
        self.switch = switch
        self._listener = socket.create_server((host, port))
        bound_host, bound_port = self._listener.getsockname()[:2]
        self.address = f"{bound_host}:{bound_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="control", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._listener], [], [], POLL_SECONDS)
            if ready:
                try:
                    sock, _ = self._listener.accept()
                except OSError:
                    continue
                threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with sock, sock.makefile("rwb") as stream:
            for raw in stream:
                text = raw.decode("utf-8", "replace").strip()
                if not text:
                    continue
                reply = answer(self.switch, text)
                log.info("control: %s -> %s", text, reply)
                stream.write(reply.encode() + b"\n")
                stream.flush()

    def stop(self) -> None:
        """Stop taking control connections."""
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=2)


__all__ = ["ControlServer", "answer"]
