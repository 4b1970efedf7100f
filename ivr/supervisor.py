"""Keep child processes running: restart one that dies, stop them all on the way out.

Each child runs in a process group of its own, so a Ctrl-C at the terminal reaches only the
supervisor, which then stops every child in order (SIGTERM to the group, SIGKILL to what
lingers) instead of each child dying half-way on its own. A child that dies is restarted at
once; one that dies again and again soon after its start is restarted after a growing pause,
so a child that cannot run does not spin.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

STABLE_AFTER = 10.0  # seconds a child must run for its next death to count as new
MAX_PAUSE = 30.0


class Child(Protocol):
    """A running child process, as the supervisor sees it."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def stop(self) -> None: ...


class Spawned:
    """A command in a process group of its own, its output appended to a log file."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        pass_fds: Sequence[int] = (),
        stop_timeout: float = 10.0,
    ) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                list(args),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=tuple(pass_fds),
                start_new_session=True,
            )
        self.log_path = log_path
        self.stop_timeout = stop_timeout

    @property
    def pid(self) -> int:
        """The process id, which is also its process group id."""
        return self.proc.pid

    def poll(self) -> int | None:
        """Return the exit status, or None while it runs."""
        return self.proc.poll()

    def stop(self) -> None:
        """SIGTERM the leader (it stops its own workers), then SIGKILL the group's rest."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc.pid)
        self.proc.wait()


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left of a process group."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def how_it_ended(status: int) -> str:
    """Say how a process ended from its exit status."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exited with status {status}"


@dataclass
class Supervised:
    """One child the supervisor keeps running."""

    name: str
    start: Callable[[], Child]
    child: Child | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    next_try: float = 0.0
    restarts: int = 0


class Supervisor:
    """Start children, restart those that die, stop them all."""

    def __init__(self, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.say = say
        self.clock = clock
        self.children: list[Supervised] = []
        self._adding = threading.Lock()

    def add(self, name: str, start: Callable[[], Child]) -> Child:
        """Start a child now (an error here is the caller's) and keep it running after."""
        entry = Supervised(name, start)
        entry.child, entry.started_at = start(), self.clock()
        with self._adding:  # children may be started from several threads at once
            self.children.append(entry)
        return entry.child

    def pids(self) -> dict[str, int]:
        """Return the process id of each running child by name."""
        return {e.name: e.child.pid for e in self.children if e.child is not None}

    def check(self) -> None:
        """Restart every child that has died, when its pause is over."""
        now = self.clock()
        for entry in self.children:
            if entry.child is not None:
                status = entry.child.poll()
                if status is None:
                    continue
                ran = now - entry.started_at
                entry.quick_deaths = entry.quick_deaths + 1 if ran < STABLE_AFTER else 0
                # Once: at once. Again and again soon after each start: 1 s, 2 s, 4 s ...
                pause = (
                    min(2.0 ** (entry.quick_deaths - 2), MAX_PAUSE) if entry.quick_deaths > 1 else 0
                )
                entry.next_try = now + pause
                pid = entry.child.pid
                entry.child.stop()  # reaps it, and SIGKILLs what it left in its group
                entry.child = None
                later = f"; restarting in {pause:.0f} s" if pause else "; restarting"
                self.say(f"{entry.name} (pid {pid}) {how_it_ended(status)}{later}")
            if entry.child is None and now >= entry.next_try:
                self._restart(entry)

    def _restart(self, entry: Supervised) -> None:
        try:
            entry.child = entry.start()
        except Exception as exc:  # a start that fails is tried again, never fatal
            entry.quick_deaths += 1
            pause = min(2.0**entry.quick_deaths, MAX_PAUSE)
            entry.next_try = self.clock() + pause
            self.say(f"{entry.name} could not be restarted ({exc}); next try in {pause:.0f} s")
            return
        entry.started_at = self.clock()
        entry.restarts += 1
        self.say(f"{entry.name} restarted (pid {entry.child.pid}, restart #{entry.restarts})")

    def stop_all(self) -> None:
        """Stop every child, all at once (each may take its time to finish cleanly)."""
        stopping = [
            threading.Thread(target=self._stop, args=(entry,), name=f"stop {entry.name}")
            for entry in self.children
            if entry.child is not None
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    def _stop(self, entry: Supervised) -> None:
        child, entry.child = entry.child, None
        if child is None:
            return
        try:
            child.stop()
        except Exception as exc:  # the others are still stopped
            self.say(f"{entry.name} did not stop cleanly: {exc}")
