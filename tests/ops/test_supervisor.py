"""The demo's supervisor over real processes: restart the dead, stop them all."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ivr.supervisor import Spawned, Supervisor

from .demo_process import alive, descendants

# A leader with a child of its own in its process group, as gunicorn has workers.
FAMILY = ["sh", "-c", "sleep 60 & wait"]
IGNORES_TERM = ["sh", "-c", "trap '' TERM; sleep 60 & wait"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_dead(pid: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while alive(pid):
        assert time.monotonic() < deadline, f"{pid} still runs"
        time.sleep(0.05)


def test_a_killed_child_is_restarted_and_its_group_cleared(tmp_path: Path):
    said: list[str] = []
    supervisor = Supervisor(said.append)
    try:
        first = supervisor.add("family", lambda: Spawned(FAMILY, os.environ, tmp_path / "f.log"))
        time.sleep(0.3)
        (grandchild,) = descendants(first.pid)
        os.kill(first.pid, signal.SIGKILL)
        wait_dead(first.pid)
        supervisor.check()
        assert said[0] == f"family (pid {first.pid}) killed by SIGKILL; restarting"
        assert said[1].startswith("family restarted (pid ") and "restart #1" in said[1]
        assert not alive(grandchild)  # the dead leader's group went with it
        second = supervisor.pids()["family"]
        assert second != first.pid and alive(second)
    finally:
        supervisor.stop_all()


def test_a_child_that_keeps_dying_waits_longer_each_time(tmp_path: Path):
    said: list[str] = []
    clock = Clock()
    supervisor = Supervisor(said.append, clock)
    try:
        child = supervisor.add(
            "crash", lambda: Spawned(["sleep", "60"], os.environ, tmp_path / "c")
        )
        pauses = []
        for _ in range(5):
            assert isinstance(child, Spawned)
            child.proc.kill()
            child.proc.wait()
            supervisor.check()  # it died within seconds of its start
            pauses.append(said[-1].rsplit("restarting", 1)[1] if "restarting" in said[-1] else "")
            clock.now += 100  # past any pause
            supervisor.check()
            entry = supervisor.children[0]
            entry.started_at = clock.now  # so its next death is soon after its start again
            child = entry.child  # type: ignore[assignment]
        assert pauses == ["", " in 1 s", " in 2 s", " in 4 s", " in 8 s"]
        assert "killed by SIGKILL" in said[0]
    finally:
        supervisor.stop_all()


def test_a_start_that_fails_is_tried_again_later(tmp_path: Path):
    said: list[str] = []
    clock = Clock()
    attempts = []

    def start() -> Spawned:
        attempts.append(clock.now)
        if len(attempts) == 2:
            raise RuntimeError("port busy")
        return Spawned(["true"], os.environ, tmp_path / "t.log")

    supervisor = Supervisor(said.append, clock)
    child = supervisor.add("flaky", start)
    assert isinstance(child, Spawned)
    child.proc.wait()
    clock.now += 100  # it ran long enough: restarted at once
    supervisor.check()
    assert said[-1] == "flaky could not be restarted (port busy); next try in 2 s"
    supervisor.check()
    assert len(attempts) == 2  # not before its time
    clock.now += 2
    supervisor.check()
    assert len(attempts) == 3 and said[-1].startswith("flaky restarted")
    supervisor.stop_all()


def test_stop_all_stops_every_child_even_one_deaf_to_sigterm(tmp_path: Path):
    supervisor = Supervisor(lambda _text: None)
    deaf = supervisor.add(
        "deaf", lambda: Spawned(IGNORES_TERM, os.environ, tmp_path / "d.log", stop_timeout=1)
    )
    family = supervisor.add("family", lambda: Spawned(FAMILY, os.environ, tmp_path / "f.log"))
    time.sleep(0.3)
    everyone = {deaf.pid, family.pid, *descendants(deaf.pid), *descendants(family.pid)}
    assert len(everyone) == 4
    started = time.monotonic()
    supervisor.stop_all()
    assert time.monotonic() - started < 5  # at once, not one after the other
    for pid in everyone:
        wait_dead(pid, 5)
    assert supervisor.pids() == {}
