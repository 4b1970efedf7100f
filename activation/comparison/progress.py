"""How a comparison shows its progress: a bar in a terminal, JSON lines for logs and schedulers."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger("cas.comparison")


class Progress(Protocol):
    """What a comparison tells whoever watches it."""

    def event(self, name: str, **fields: Any) -> None:
        """A step of the run: run_started, switch_started, switch_finished (one pair a switch,
        `switch` naming it), billing_started, billing_finished (`side` is "billing"),
        run_finished."""
        ...

    def advanced(self, switch: str, done: int, expected: int) -> None:
        """How far the merge of one side (a switch, or "billing") has come, in CAS's numbers."""
        ...


STARTED = ("switch_started", "billing_started")
FINISHED = ("switch_finished", "billing_finished")


def _side(fields: dict[str, Any]) -> str:
    return str(fields.get("switch") or fields.get("side") or "")


class JsonLines:
    """One JSON object a line per event, and a progress line now and then (not every tick)."""

    def __init__(self, write: Callable[[str], None], every: float = 30.0) -> None:
        self.write = write
        self.every = every
        self._last = 0.0
        self._started: dict[str, float] = {}

    def event(self, name: str, **fields: Any) -> None:
        """Write one event line."""
        if name in STARTED:
            self._started[_side(fields)] = time.monotonic()
            self._last = time.monotonic()
        self._line({"event": name, **fields})

    def advanced(self, switch: str, done: int, expected: int) -> None:
        """Write a progress line with rate and time left, at most every `every` seconds."""
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        elapsed = max(now - self._started.get(switch, now), 1e-6)
        rate = done / elapsed
        left = (expected - done) / rate if rate and expected > done else 0.0
        self._line(
            {
                "event": "progress",
                "switch": switch,
                "done": done,
                "expected": expected,
                "per_second": round(rate),
                "seconds_left": round(left, 1),
            }
        )

    def _line(self, record: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.write(json.dumps({"at": stamp, **record}, default=str, sort_keys=False))


def logged() -> JsonLines:
    """Progress as JSON log messages on the `cas.comparison` logger (the scheduler's default)."""
    return JsonLines(log.info, every=60.0)


class RichBar:
    """A progress bar per side with rate and time left, for a person at a terminal."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.console = console or Console()
        self.bar = Bar(
            TextColumn("[bold]{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichBar:
        self.bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.stop()

    def event(self, name: str, **fields: Any) -> None:
        """Open a bar when a side starts; print the outcome when it ends."""
        if name in STARTED:
            switch = _side(fields)
            self._tasks[switch] = self.bar.add_task(
                switch, total=max(fields.get("expected", 0), 1), rate=""
            )
        elif name in FINISHED:
            switch = _side(fields)
            task = self._tasks.get(switch)
            if task is not None:
                self.bar.update(task, completed=self.bar.tasks[task].total)
            if fields.get("unreadable"):
                self.console.print(f"[red]{switch}: could not be read: {fields['unreadable']}")

    def advanced(self, switch: str, done: int, expected: int) -> None:
        """Move the switch's bar."""
        task = self._tasks.get(switch)
        if task is None:
            return
        speed = self.bar.tasks[task].speed
        self.bar.update(
            task,
            completed=min(done, expected) if expected else done,
            rate=f"{speed:>9,.0f}/s" if speed else "",
        )


__all__ = ["JsonLines", "Progress", "RichBar", "log", "logged"]
