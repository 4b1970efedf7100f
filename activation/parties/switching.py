"""From a Switch Information File row to an open switch session."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

from activation.secrets import Vault
from activation.store.models import Switch
from switch_adapters import open_session
from switch_adapters.port import (
    CommandTemplate,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
    SwitchSession,
)
from switch_adapters.session import SAFE_VALUE

log = logging.getLogger("cas.switches")
T = TypeVar("T")


class _Kept(NamedTuple):
    """An idle session, the definition it was opened with, and since when (monotonic) it idles."""

    defn: SwitchDefinition
    session: SwitchSession
    since: float


def definition(switch: Switch, vault: Vault) -> SwitchDefinition:
    """Turn a switch row into the plain values the adapters take (the secret decrypted)."""
    return SwitchDefinition(
        name=switch.name,
        dialect=switch.dialect,
        code=switch.code,
        primary_url=switch.primary_url,
        backup_url=switch.backup_url or None,
        logon_name=switch.logon_name,
        logon_secret=(
            vault.decrypt(switch.logon_secret_encrypted) if switch.logon_secret_encrypted else ""
        ),
        commands={
            name: CommandTemplate(cmd["format"], cmd["expect"])
            for name, cmd in (switch.commands or {}).items()
        },
        npa_nxx=tuple(block.npa_nxx for block in switch.blocks),
    )


def logon_value_problem(value: str, longest: int) -> str | None:
    """Why a log-on name or secret cannot be sent in a switch command, or None."""
    if len(value) > longest or not SAFE_VALUE.fullmatch(value):
        return f"letters, digits and & + . _ - only, {longest} at most"
    return None


class SwitchGateway:
    """Opens sessions on switches through switch_adapters (the switch port), and keeps them.

    A switch session costs a connection, a log-on and a log-off; a worker changes lines on the
    same switch many times a second. So a session closed by its user stays logged on, idle, for
    the next `open` of the same switch (the same definition: a changed row, URL or secret opens
    anew), at most `keep` of them a switch and none idle longer than `idle_seconds`. A session
    whose command failed (anything but the switch's own refusal) is closed, not kept. A kept
    line that died meanwhile costs nothing but time: the sessions check a line idle for a while
    with their keep-alive, and redo a command on a fresh line, asking first, when the line is
    found dead.
    """

    def __init__(self, deadline: float, *, keep: int = 2, idle_seconds: float = 50.0) -> None:
        self.deadline = deadline
        self.keep = keep
        self.idle_seconds = idle_seconds
        self._idle: dict[str, list[_Kept]] = {}
        self._lock = threading.Lock()

    def open(self, defn: SwitchDefinition) -> SwitchSession:
        """A logged-on session to a switch; raises the adapters' typed errors."""
        session = self._reuse(defn) or open_session(defn, deadline=self.deadline)
        return KeptSession(self, defn, session)

    def close(self) -> None:
        """Log off every idle session (a process ending)."""
        with self._lock:
            idle = [entry.session for kept in self._idle.values() for entry in kept]
            self._idle.clear()
        for session in idle:
            _log_off(session)

    def _reuse(self, defn: SwitchDefinition) -> SwitchSession | None:
        now = time.monotonic()
        with self._lock:
            kept = self._idle.get(defn.name, [])
            fresh: list[_Kept] = []
            stale: list[_Kept] = []
            for entry in kept:
                usable = entry.defn == defn and now - entry.since < self.idle_seconds
                (fresh if usable else stale).append(entry)
            self._idle[defn.name] = fresh[:-1]
        for entry in stale:
            _log_off(entry.session)
        return fresh[-1].session if fresh else None

    def _give_back(self, defn: SwitchDefinition, session: SwitchSession) -> None:
        surplus = [session]
        with self._lock:
            kept = self._idle.setdefault(defn.name, [])
            if len(kept) < self.keep and all(other.defn == defn for other in kept):
                kept.append(_Kept(defn, session, time.monotonic()))
                surplus = []
        for extra in surplus:
            _log_off(extra)


def _log_off(session: SwitchSession) -> None:
    try:
        session.close()
    except Exception as exc:  # best effort: a line already gone has nothing to log off from
        log.debug("closing a kept session failed: %s", exc)


class KeptSession:
    """A session lent by the gateway: `close` gives it back unless a command of it failed."""

    def __init__(self, gateway: SwitchGateway, defn: SwitchDefinition, session: SwitchSession):
        self._gateway = gateway
        self._defn = defn
        self._session: SwitchSession | None = session
        self._spoiled = False

    def __getattr__(self, name: str) -> Any:
        # What a dialect offers beyond the port (url, keepalive, keeps_features, ...).
        if name.startswith("__"):
            raise AttributeError(name)
        found = getattr(self._open(), name)
        if name == "dump_records":  # the comparison's bulk read: kept only if read to the end
            return lambda: self._whole(found())
        return found

    def insert(self, subscriber: Subscriber) -> None:
        self._run(lambda s: s.insert(subscriber))

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> None:
        self._run(lambda s: s.modify(mid, esn=esn, features=features))

    def suspend(self, mid: str) -> None:
        self._run(lambda s: s.suspend(mid))

    def restore(self, mid: str) -> None:
        self._run(lambda s: s.restore(mid))

    def delete(self, mid: str) -> None:
        self._run(lambda s: s.delete(mid))

    def query(self, mid: str) -> Subscriber | None:
        return self._run(lambda s: s.query(mid))

    def dump(self) -> Iterator[Subscriber]:
        return self._whole(self._open().dump())

    def _whole(self, dump: Iterator[T]) -> Iterator[T]:
        finished = False
        try:
            yield from dump
            finished = True
        finally:
            # A dump left half-way leaves the rest of the answer on the line.
            self._spoiled = self._spoiled or not finished

    def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if self._spoiled:
            _log_off(session)
        else:
            self._gateway._give_back(self._defn, session)

    def __enter__(self) -> KeptSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> SwitchSession:
        if self._session is None:
            raise RuntimeError(f"{self._defn.name}: the session was closed")
        return self._session

    def _run(self, command: Callable[[SwitchSession], T]) -> T:
        try:
            return command(self._open())
        except SwitchDenied:
            raise  # the switch answered: the session is as good as before
        except Exception:
            self._spoiled = True
            raise
