"""Where a load benchmark's CPU went, by role: read from /proc on Linux, not sampled by a profiler.

A role is a set of processes: a process tree the benchmark spawned (gunicorn's master and its
workers, the queue worker, the switch simulators), the PostgreSQL backends serving a role's
connections (told apart by the application name each role's processes connect with), and the
benchmark's own process (the client). A snapshot sums the user and system CPU of each role,
reaped children included, kept by process, so the difference of two snapshots is what the
role spent between them (a process gone by the second snapshot is left out of it). Backends of
a server on another host cannot be read and are left out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CLIENT = "client"  # the role of the benchmark's own process
# (role, (pid, start time)) -> CPU seconds
Snapshot = dict[tuple[str, tuple[int, int]], float]


def available() -> bool:
    """Tell whether processes' CPU can be read here (Linux's /proc)."""
    return (PROC / "self" / "stat").exists()


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw.rpartition(")")[2].split()


def cpu_seconds(pid: int) -> tuple[tuple[int, int], float] | None:
    """A process's identity (pid and start time, as pids are reused) and its user and system
    CPU with its reaped children's; None once it is gone."""
    fields = _stat(pid)
    if fields is None:
        return None
    # utime, stime, cutime, cstime: fields 14-17 of stat(5); starttime: field 22.
    return (pid, int(fields[19])), sum(int(v) for v in fields[11:15]) / TICKS


def children() -> dict[int, list[int]]:
    """Every running process's children, by parent pid."""
    below: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                below.setdefault(int(fields[1]), []).append(int(entry.name))
    return below


def descendants(roots: Iterable[int], children: dict[int, list[int]]) -> set[int]:
    """The roots and every process below them."""
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


@dataclass
class Roles:
    """The processes of each role: spawned trees by root pid, backends by application name."""

    database_url: str
    trees: dict[str, list[int]] = field(default_factory=dict)
    backends: dict[str, str] = field(default_factory=dict)  # application name -> role

    def snapshot(self) -> Snapshot:
        """CPU seconds each process of each role has spent so far (nothing where /proc is not)."""
        if not available():
            return {}
        below = children()
        members = [
            (role, pid) for role, roots in self.trees.items() for pid in descendants(roots, below)
        ]
        members += [(role, pid) for pid, role in self._backend_pids().items()]
        spent: Snapshot = {(CLIENT, (os.getpid(), 0)): time.process_time()}
        for role, pid in members:
            read = cpu_seconds(pid)
            if read is not None:
                spent[(role, read[0])] = read[1]
        return spent

    def _backend_pids(self) -> dict[int, str]:
        if not self.backends:
            return {}
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT pid, application_name FROM pg_stat_activity "
                        "WHERE datname = current_database()"
                    )
                ).all()
        finally:
            engine.dispose()
        return {
            pid: self.backends[name]
            for pid, name in rows
            if name in self.backends and (PROC / str(pid)).exists()
        }


def spent_between(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """What each role spent between two snapshots (a process new since the first, all of it)."""
    spent: dict[str, float] = {}
    for key, seconds in after.items():
        role = key[0]
        spent[role] = spent.get(role, 0.0) + max(0.0, seconds - before.get(key, 0.0))
    return spent
