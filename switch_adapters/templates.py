"""What a dialect reads from its switch row: command templates, and subscribers read back.

A switch row (``SwitchDefinition.commands``) gives each command a format string and an expected
response pattern; ``SwitchRow`` is what a dialect session uses of it:

- ``template(command)``: the row's template, else the dialect's ``DEFAULT_COMMANDS`` (a row
  written before a command existed lacks it). A row's template equal to one of the dialect's
  ``FORMER_COMMANDS`` (a default of an earlier version, which rows copied) is read as today's
  default: the switch's answers changed with it.
- ``command_text(command, **values)``: the format filled with the switch's values (``tid``,
  ``code``, ``name``, ``secret``) and the given ones. A value given as None leaves out the
  parameter that carries it (``leave_out``): a modify sends only what it changes.
- ``record_from(match)``: a subscriber read back with a query or dump pattern, whose named
  groups ``mid``, ``esn``, ``features`` and ``state`` give it. ``STATES`` turns the switch's
  word for a state into ACTIVE or SUSPENDED. A pattern without ``features`` reads a switch
  that keeps none; one without ``state`` (or whose ``state`` group took no part) reads every
  line as ACTIVE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from switch_adapters.port import (
    ACTIVE,
    SUSPENDED,
    CommandTemplate,
    Garbled,
    Record,
    Subscriber,
    SwitchDefinition,
)

# Characters a value may carry into a command: none of them is punctuation in any dialect.
SAFE_VALUE = re.compile(r"[A-Za-z0-9&+._-]*")


def leave_out(text: str, name: str) -> str:
    """Drop from a format string the parameters that carry the field `name`."""
    field = re.compile(r"[^,:;\s]*\{" + re.escape(name) + r"(?:[!:][^{}]*)?\}[^,:;\s]*")
    while (found := field.search(text)) is not None:
        start, end = found.span()
        if start and text[start - 1] in ", ":
            start -= 1
        elif end < len(text) and text[end] in ", ":
            end += 1
        text = text[:start] + text[end:]
    return text


class SwitchRow:
    """The templates of one switch row, as a dialect session reads them (a mixin)."""

    DIALECT: ClassVar[str] = ""
    DEFAULT_COMMANDS: ClassVar[Mapping[str, CommandTemplate]] = {}
    FORMER_COMMANDS: ClassVar[Mapping[str, tuple[CommandTemplate, ...]]] = {}
    STATES: ClassVar[Mapping[str, str]] = {ACTIVE: ACTIVE, SUSPENDED: SUSPENDED}

    defn: SwitchDefinition
    switch: str
    _patterns: dict[str, re.Pattern[str]]

    def template(self, command: str) -> CommandTemplate:
        """Return the switch row's template for a command, or the dialect's default.

        A row written before the command existed has none; a row that copied a default the
        dialect has since changed (FORMER_COMMANDS) gets today's.
        """
        found = self.defn.commands.get(command)
        if found is None or found in self.FORMER_COMMANDS.get(command, ()):
            found = self.DEFAULT_COMMANDS.get(command)
        if found is None:
            raise ValueError(f"{self.switch}: no {command!r} command for dialect {self.DIALECT}")
        return found

    def expect(self, command: str) -> re.Pattern[str]:
        """Return the compiled expected-response pattern of a command."""
        pattern = self._patterns.get(command)
        if pattern is None:
            pattern = self._patterns[command] = re.compile(self.template(command).expect)
        return pattern

    def command_text(self, command: str, **values: str | None) -> str:
        """Fill a command's format string with the switch's values and the given ones.

        A value given as None leaves out the parameter that carries it: the run of characters
        around its field up to a ``,`` ``:`` ``;`` or blank, with one ``,`` or blank beside it
        (``ESN={esn},FEAT={features}`` without features is ``ESN={esn}``).
        """
        text = self.template(command).format
        for name in [name for name, value in values.items() if value is None]:
            text = leave_out(text, name)
        fields: dict[str, str] = {
            "tid": self.defn.name,
            "code": self.defn.code,
            "name": self.defn.logon_name,
            "secret": self.defn.logon_secret,
            "mid": "",
            "esn": "",
            "features": "",
            "ctag": "",
        }
        fields.update({name: value for name, value in values.items() if value is not None})
        return text.format(**fields)

    def subscriber_from(self, match: re.Match[str]) -> Subscriber:
        """Build a Subscriber from a match with the named groups mid, esn, features, state."""
        return Subscriber(*self.record_from(match))

    def record_from(self, match: re.Match[str]) -> Record:
        """Read (mid, esn, features, state) from a match with those named groups."""
        try:
            mid, esn = match.group("mid", "esn")
        except IndexError as exc:
            raise Garbled(self.switch, f"pattern lacks a group: {exc}") from exc
        groups = match.re.groupindex
        # A pattern may leave features out (a switch that keeps none), or the state.
        features = match.group("features") if "features" in groups else None
        word = match.group("state") if "state" in groups else None
        return (mid, esn, features or "", self.state_of(word))

    def state_of(self, word: str | None) -> str:
        """Return ACTIVE or SUSPENDED for the switch's word of a line's state (None: ACTIVE)."""
        if word is None:
            return ACTIVE
        state = self.STATES.get(word)
        if state is None:
            raise Garbled(self.switch, f"unknown line state {word!r:.20}")
        return state

    def with_states(self, found: list[tuple[str, str, str, str]]) -> list[Record]:
        """Turn the switch's state words of whole (mid, esn, features, word) rows into states."""
        states = self.STATES
        try:
            return [(mid, esn, features, states[word]) for mid, esn, features, word in found]
        except KeyError as exc:
            raise Garbled(self.switch, f"unknown line state {exc.args[0]!r:.20}") from None


__all__ = ["SAFE_VALUE", "SwitchRow", "leave_out"]
