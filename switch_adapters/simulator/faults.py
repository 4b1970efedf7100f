"""Faults the simulated switch injects on request, and its counters.

The same one-line commands come from start-up flags and from the control port:

    delay SECONDS [COUNT]   do the next COUNT commands (all, without COUNT) but answer late
    deny COUNT [CODE]       refuse the next COUNT commands (with the dialect's code CODE)
    drop COUNT              do the next COUNT commands, then hang up half-way through the answer
    garbage COUNT           answer the next COUNT commands with noise, doing nothing
    silent [SECONDS]        take commands and neither do nor answer them, for SECONDS or until
                            cleared
    rept [COUNT]            send COUNT autonomous messages (default 1), one before each answer
    gap                     skip one autonomous tag number, as if a message had been lost
    clear                   end every fault
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass

# Noise starts with bytes no text dialect sends, so a client can tell it at once instead of
# waiting for a terminator that never comes.
_NOISE_LENGTH = 48


@dataclass(frozen=True)
class Fault:
    """What happens to one command and its answer."""

    delay: float = 0.0
    deny: str | None = None  # a code to refuse with ("" for the dialect's own)
    drop: bool = False
    garbage: bool = False
    silent: bool = False


NO_FAULT = Fault()


class Faults:
    """The faults in force, shared by every connection of a simulated switch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cleared = threading.Event()
        self._reset()

    def _reset(self) -> None:
        self._delay = 0.0
        self._delay_count: float = 0
        self._deny_count = 0
        self._deny_code = ""
        self._drop_count = 0
        self._garbage_count = 0
        self._silent_until = 0.0
        self._rept_count = 0
        self._gap = False

    def take(self) -> Fault:
        """Consume what is due for the command just received."""
        with self._lock:
            if self._silent_now():
                return Fault(silent=True)
            if self._garbage_count:
                self._garbage_count -= 1
                return Fault(garbage=True)
            if self._deny_count:
                self._deny_count -= 1
                return Fault(deny=self._deny_code)
            delay = 0.0
            if self._delay_count:
                self._delay_count -= 1
                delay = self._delay
            drop = self._drop_count > 0
            if drop:
                self._drop_count -= 1
            return Fault(delay=delay, drop=drop) if delay or drop else NO_FAULT

    def silent(self) -> bool:
        """Tell whether the switch is ignoring its lines now."""
        with self._lock:
            return self._silent_now()

    def _silent_now(self) -> bool:
        return time.monotonic() < self._silent_until

    def take_autonomous(self) -> bool:
        """Tell whether an autonomous message was asked for, counting it as sent."""
        with self._lock:
            if not self._rept_count:
                return False
            self._rept_count -= 1
            return True

    def tag_step(self) -> int:
        """Return the step to the next autonomous tag: 1, or 2 once after `gap`."""
        with self._lock:
            step = 2 if self._gap else 1
            self._gap = False
            return step

    def wait(self, seconds: float) -> None:
        """Sleep, but wake early when the faults are cleared."""
        if seconds > 0:
            self._cleared.wait(seconds)

    def noise(self) -> bytes:
        """Return line noise: random bytes, never a valid message of any dialect."""
        return bytes([0xFF, 0x00]) + os.urandom(_NOISE_LENGTH) + b";\r\n"

    def apply(self, text: str) -> str:
        """Carry out one fault command; return a one-line answer."""
        words = text.split()
        if not words:
            raise ValueError("empty command")
        verb, args = words[0].lower(), words[1:]
        with self._lock:
            if verb == "clear":
                self._reset()
                self._cleared.set()
                self._cleared = threading.Event()
            elif verb == "delay":
                self._delay = _number(args, 0, "seconds")
                self._delay_count = _count(args, 1, default=math.inf)
            elif verb == "deny":
                code = args[1] if len(args) > 1 else ""
                if code and not code.isalnum():
                    raise ValueError("a denial code is letters and digits")
                self._deny_count = int(_count(args, 0, default=1))
                self._deny_code = code
            elif verb == "drop":
                self._drop_count = int(_count(args, 0, default=1))
            elif verb == "garbage":
                self._garbage_count = int(_count(args, 0, default=1))
            elif verb == "silent":
                seconds = _number(args, 0, "seconds") if args else 0.0
                self._silent_until = time.monotonic() + (seconds if seconds > 0 else math.inf)
            elif verb == "rept":
                self._rept_count += int(_count(args, 0, default=1))
            elif verb == "gap":
                self._gap = True
            else:
                raise ValueError(f"unknown fault {verb!r}")
            return "ok " + " ".join(words)


def _number(args: list[str], index: int, what: str) -> float:
    try:
        value = float(args[index])
    except (IndexError, ValueError):
        raise ValueError(f"expected {what}") from None
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"expected {what} >= 0")
    return value


def _count(args: list[str], index: int, *, default: float) -> float:
    if len(args) <= index:
        return default
    try:
        value = int(args[index])
    except ValueError:
        raise ValueError("expected a count") from None
    if value < 0:
        raise ValueError("expected a count >= 0")
    return value


class Stats:
    """Counters of what a simulated switch did, for the control port's `stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, what: str, n: int = 1) -> None:
        """Add to a counter."""
        with self._lock:
            self._counts[what] += n

    def get(self, what: str) -> int:
        """Return one counter."""
        with self._lock:
            return self._counts[what]

    def line(self) -> str:
        """Return every counter as `name=value` words, sorted."""
        with self._lock:
            return " ".join(f"{k}={v}" for k, v in sorted(self._counts.items()))


__all__ = ["NO_FAULT", "Fault", "Faults", "Stats"]
