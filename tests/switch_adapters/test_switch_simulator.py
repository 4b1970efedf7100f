"""The simulator itself: its store, its faults, its control port and its process."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from switch_adapters.port import Subscriber
from switch_adapters.simulator.cli import switch_sim
from switch_adapters.simulator.faults import NO_FAULT, Fault, Faults
from switch_adapters.simulator.store import DuplicateMid, EsnActive, Store


def sub(n: int) -> Subscriber:
    return Subscriber(f"713555{n:04d}", f"138031{n:05d}", "10")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- store -----------------------------------------------------------------------------------


def test_store_refuses_duplicate_mid_and_active_esn(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.insert(sub(1))
        with pytest.raises(DuplicateMid):
            store.insert(Subscriber(sub(1).mid, sub(2).esn))
        with pytest.raises(EsnActive):
            store.insert(Subscriber(sub(2).mid, sub(1).esn))
        with pytest.raises(DuplicateMid):  # the same subscriber again: its MID is held
            store.insert(sub(1))
        assert store.count() == 1
        assert store.get(sub(1).mid) == sub(1)
        assert store.delete(sub(1).mid) and not store.delete(sub(1).mid)
        store.insert(Subscriber(sub(2).mid, sub(1).esn))  # the ESN is free again
        assert store.get(sub(1).mid) is None


def test_store_streams_ordered_by_mid_across_batches(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.load(sub(n) for n in range(2345, 0, -1)) == 2345
        stream = iter(store)
        assert next(stream) == sub(1)
        store.insert(sub(9999))  # a write while a dump is under way is not held up
        rest = list(stream)
    assert [s.mid for s in rest] == [sub(n).mid for n in [*range(2, 2346), 9999]]
    with Store(tmp_path / "s.db", readonly=True) as reader:
        assert reader.count() == 2346


def test_store_keeps_a_state_and_changes_what_it_holds(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.insert(sub(1))
        store.insert(sub(2))
        assert store.set_state(sub(1).mid, "suspended") == "active"
        assert store.set_state(sub(1).mid, "suspended") == "suspended"  # unchanged
        assert store.set_state(sub(9).mid, "suspended") is None
        assert store.modify(sub(1).mid, esn="13899900001")
        assert store.modify(sub(1).mid, features="")
        assert not store.modify(sub(9).mid, features="20")
        with pytest.raises(EsnActive):  # a suspended line's handset stays in use
            store.modify(sub(2).mid, esn="13899900001")
        with pytest.raises(ValueError):
            store.set_state(sub(2).mid, "barred")
        held = Subscriber(sub(1).mid, "13899900001", "", "suspended")
        assert store.get(sub(1).mid) == held
        assert list(store) == [held, sub(2)]
        assert list(store.pages()) == [[tuple(vars(held).values()), tuple(vars(sub(2)).values())]]


def test_a_store_file_from_before_states_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the first layout, as a simulator wrote it
        old.executescript(
            "CREATE TABLE subscriber (mid TEXT PRIMARY KEY, esn TEXT NOT NULL UNIQUE,"
            " features TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
        )
        old.execute("INSERT INTO subscriber VALUES (?, ?, ?)", (sub(1).mid, sub(1).esn, "10"))
    old.close()
    with Store(path, readonly=True) as reader:  # read as it is: every line active
        assert list(reader) == [sub(1)]
    with Store(path) as store, Store(path) as second:  # a second simulator on the same file
        assert store.get(sub(1).mid) == sub(1)
        assert store.set_state(sub(1).mid, "suspended") == "active"
        assert second.get(sub(1).mid) == Subscriber(sub(1).mid, sub(1).esn, "10", "suspended")
    with sqlite3.connect(path) as migrated:
        columns = [row[1] for row in migrated.execute("PRAGMA table_info(subscriber)")]
    migrated.close()
    assert columns == ["mid", "esn", "features", "state"]


# -- faults ----------------------------------------------------------------------------------


def test_faults_are_consumed_command_by_command() -> None:
    faults = Faults()
    assert faults.take() is NO_FAULT
    assert faults.apply("deny 2 IDNV") == "ok deny 2 IDNV"
    faults.apply("drop 1")
    faults.apply("delay 1.5 2")
    assert [faults.take() for _ in range(5)] == [
        Fault(deny="IDNV"),
        Fault(deny="IDNV"),
        Fault(delay=1.5, drop=True),
        Fault(delay=1.5),
        NO_FAULT,
    ]
    faults.apply("garbage 1")
    faults.apply("silent 0.2")
    assert faults.take() == Fault(silent=True)
    time.sleep(0.25)
    assert faults.take() == Fault(garbage=True)
    faults.apply("silent")
    faults.apply("clear")
    assert faults.take() is NO_FAULT and not faults.silent()


def test_autonomous_requests_and_tag_gaps() -> None:
    faults = Faults()
    assert not faults.take_autonomous()
    faults.apply("rept 2")
    assert faults.take_autonomous() and faults.take_autonomous()
    assert not faults.take_autonomous()
    assert faults.tag_step() == 1
    faults.apply("gap")
    assert [faults.tag_step(), faults.tag_step()] == [2, 1]


def test_clear_cuts_a_delay_short() -> None:
    faults = Faults()
    began = time.monotonic()
    clearing = threading.Timer(0.1, faults.apply, args=("clear",))
    clearing.start()
    faults.wait(10)
    clearing.join()
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(
    "command",
    ["", "explode", "delay", "delay -1", "deny x", "deny 1 I;D", "silent soon", "drop -2"],
)
def test_bad_fault_commands_are_refused(command: str) -> None:
    with pytest.raises(ValueError):
        Faults().apply(command)


# -- control port and command line ------------------------------------------------------------


def test_control_port_answers_one_line_each(sim) -> None:  # type: ignore[no-untyped-def]
    assert sim.control("ping") == "ok pong"
    assert sim.control("deny 1 IDNV") == "ok deny 1 IDNV"
    assert sim.control("explode").startswith("error")
    assert sim.control("clear") == "ok clear"
    assert sim.stats() == {"subscribers": 0}
    host, _, port = sim.control_address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        stream = sock.makefile("rwb")
        for command in (b"ping\n", b"\n", b"stats\n"):
            stream.write(command)
        stream.flush()
        assert stream.readline() == b"ok pong\n"
        assert stream.readline() == b"ok subscribers=0\n"


def test_fault_flags_apply_from_the_start(start) -> None:  # type: ignore[no-untyped-def]
    sim = start("tl1", extra_args=["--deny", "2", "--deny-code", "PICC"])
    from switch_adapters import open_session
    from switch_adapters.port import SwitchDenied

    with pytest.raises(SwitchDenied) as denied:
        open_session(sim.definition("HOU1"), deadline=1.0)
    assert denied.value.code == "PICC"
    assert sim.stats()["denied"] == 1


def test_cli_refuses_bad_fault_flags(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        switch_sim, ["--store", str(tmp_path / "s.db"), "--fault", "explode"]
    )
    assert result.exit_code != 0
    assert "unknown fault" in result.output


def test_listening_line_is_machine_readable(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "switch_adapters.simulator", "--store", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        words = proc.stdout.readline().decode().split()
        assert words[0] == "listening" and words[2:] == ["control", "-"]
        assert words[1].startswith("socket://127.0.0.1:")
        port = int(words[1].rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0


def test_pty_simulator_names_its_device(start) -> None:  # type: ignore[no-untyped-def]
    sim = start("tl1", pty=True)
    assert sim.url.startswith("/dev/") and Path(sim.url).exists()


# -- the process -----------------------------------------------------------------------------


def test_stop_and_kill_leave_no_process_and_a_whole_store(start) -> None:  # type: ignore[no-untyped-def]
    from switch_adapters import open_session

    sim = start("tl1")
    with open_session(sim.definition("HOU1"), deadline=1.0) as session:
        session.insert(sub(1))
        session.insert(sub(2))
        sim.kill()
        assert not sim.alive() and gone(sim.pid)
    assert sim.subscribers() == [sub(1), sub(2)]
    again = start("tl1", store=sim.store_path)
    again.stop()
    assert gone(again.pid)
    assert again.subscribers() == [sub(1), sub(2)]


def test_simulator_exits_when_its_starter_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from switch_adapters.simulator.process import start_simulator
        sim = start_simulator("tl1", {str(tmp_path / "s.db")!r})
        print(sim.pid, flush=True)
        os._exit(0)  # no clean-up at all
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=30, check=True
    ).stdout
    pid = int(out.split()[0])
    until = time.monotonic() + 10
    while not gone(pid) and time.monotonic() < until:
        time.sleep(0.05)
    assert gone(pid)


def test_start_fails_loudly_when_the_simulator_cannot_listen(tmp_path: Path) -> None:
    from switch_adapters.simulator.process import start_simulator

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="exited"):
            start_simulator("tl1", tmp_path / "s.db", listen=f"127.0.0.1:{port}")
