"""Faults a partner simulator injects on request, as the switch simulator does.

Commands (on the control endpoint, `cas partner-sim fault URL COMMAND`, or `--fault`):

    down [K]        answer 503 (the party's system is down), to the next K requests or all
    slow SECONDS [K]  do the work, then answer SECONDS late (past the caller's deadline)
    garbage [K]     answer 200 with bytes that are not JSON, doing nothing
    clear           behave again

Without K a fault lasts until `clear`. Only the newest command counts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = ("down", "slow", "garbage")


@dataclass(frozen=True)
class Fault:
    """One fault drawn for one request."""

    kind: str
    seconds: float = 0.0


class Faults:
    """The fault a simulator is told to inject; thread-safe, drawn once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._left: int | None = None  # None: until cleared

    def apply(self, command: str) -> str:
        """Apply a command (see the module); return the faults now in force, as words."""
        words = command.split()
        if not words:
            raise ValueError("empty fault command")
        kind, args = words[0].lower(), words[1:]
        if kind == "clear" and not args:
            with self._lock:
                self._fault, self._left = None, None
            return self.describe()
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}: down, slow, garbage or clear")
        seconds = 0.0
        if kind == "slow":
            if not args:
                raise ValueError("slow needs the seconds of delay")
            seconds = float(_number(args.pop(0), "seconds", float))
            if not 0 <= seconds <= 3600:
                raise ValueError("slow takes 0 to 3600 seconds")
        if len(args) > 1:
            raise ValueError(f"too many words in {command!r}")
        left = int(_number(args[0], "count", int)) if args else None
        if left is not None and left < 1:
            raise ValueError("the count is 1 or more")
        with self._lock:
            self._fault, self._left = Fault(kind, seconds), left
        return self.describe()

    def draw(self) -> Fault | None:
        """Return the fault of this request (counting it down), or None."""
        with self._lock:
            fault = self._fault
            if fault is not None and self._left is not None:
                self._left -= 1
                if self._left <= 0:
                    self._fault, self._left = None, None
            return fault

    def describe(self) -> str:
        """Say what is in force, e.g. `slow 5 (3 more)` or `none`."""
        with self._lock:
            if self._fault is None:
                return "none"
            text = self._fault.kind
            if self._fault.kind == "slow":
                text += f" {self._fault.seconds:g}"
            if self._left is not None:
                text += f" ({self._left} more)"
            return text


def _number(text: str, what: str, kind: type[float] | type[int]) -> float | int:
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {text!r}") from None
