"""Switch adapters: open a logged-on session to a switch from its Switch Information File row.

Plug-in points (stable; a new switch type is one module plus one entry here):

- ``DIALECTS`` maps a dialect name (``SwitchDefinition.dialect``) to ``"module:Class"``. The class
  is imported only when a session of that dialect is opened. It is called as
  ``Class(defn, deadline=deadline)``; the constructor opens the line (primary, then backup) and
  logs on, or raises one of the typed errors of ``switch_adapters.port``. The object it returns
  offers the ``SwitchSession`` protocol. Dialects built on ``switch_adapters.session.LineSession``
  get deadlines, reconnect, failover, keep-alive and the change retry that queries first for
  free.
- The module named in the entry defines ``DEFAULT_COMMANDS: dict[str, CommandTemplate]`` with at
  least the commands of ``port.COMMANDS`` (insert, modify, suspend, restore, delete, query,
  dump): used when a switch row gives no template for a command (a row written before a
  command existed has none), and copied by the demo data.
- The switch simulator has the same kind of registry for its server side:
  ``switch_adapters.simulator.server.HANDLERS``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from switch_adapters.port import DEFAULT_DEADLINE, CommandTemplate, SwitchDefinition, SwitchSession

DIALECTS: dict[str, str] = {
    "tl1": "switch_adapters.tl1:TL1Session",
    "mml": "switch_adapters.mml:MMLSession",
    "ber": "switch_adapters.ber:BERSession",
    "osmo-hlr": "switch_adapters.osmo_hlr:OsmoHlrSession",
}


def _entry(dialect: str) -> tuple[str, str]:
    try:
        target = DIALECTS[dialect]
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise ValueError(f"unknown switch dialect {dialect!r} (known: {known})") from None
    module, _, name = target.partition(":")
    return module, name


def session_class(dialect: str) -> Any:
    """Import and return the session class registered for a dialect."""
    module, name = _entry(dialect)
    return getattr(import_module(module), name)


def open_session(defn: SwitchDefinition, deadline: float = DEFAULT_DEADLINE) -> SwitchSession:
    """Open a logged-on session to the switch, choosing the adapter by its dialect."""
    session: SwitchSession = session_class(defn.dialect)(defn, deadline=deadline)
    return session


def default_commands(dialect: str) -> dict[str, CommandTemplate]:
    """Return the dialect's default command templates (used when a switch row gives none)."""
    module, _ = _entry(dialect)
    return dict(import_module(module).DEFAULT_COMMANDS)


__all__ = ["DIALECTS", "default_commands", "open_session", "session_class"]
