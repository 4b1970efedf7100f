"""The switch gateway keeps a session logged on between users, against the TL1 simulator.

The simulator counts the lines it was given, so each test reads what the gateway really did
on the wire: one connection and one log-on for many users, a new one where the old could not
be trusted.
"""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from activation.parties.switching import SwitchGateway
from switch_adapters.port import LineDown, Subscriber, SwitchDenied
from switch_adapters.simulator.process import SimulatorProcess
from tests.switch_adapters.conftest import StartSimulator

MID = "7135550100"


def _connections(sim: SimulatorProcess) -> int:
    return sim.stats()["connections"]


def test_one_log_on_serves_one_user_after_another(sim: SimulatorProcess) -> None:
    gateway = SwitchGateway(5)
    defn = sim.definition()
    with gateway.open(defn) as line:
        line.insert(Subscriber(MID, "20000000001", "10"))
    for _ in range(3):
        with gateway.open(defn) as line:
            assert line.query(MID) == Subscriber(MID, "20000000001", "10")
    line = gateway.open(defn)
    line.suspend(MID)
    line.close()
    assert _connections(sim) == 1
    assert sim.subscribers() == [Subscriber(MID, "20000000001", "10", "suspended")]
    gateway.close()


def test_users_at_once_each_get_their_own_session(sim: SimulatorProcess) -> None:
    gateway = SwitchGateway(5, keep=2)
    defn = sim.definition()
    first, second, third = gateway.open(defn), gateway.open(defn), gateway.open(defn)
    for line in (first, second, third):
        assert line.query(MID) is None
        line.close()
    assert _connections(sim) == 3
    # Two were kept, the third logged off; two users at once again need no new line.
    first, second = gateway.open(defn), gateway.open(defn)
    first.query(MID)
    second.query(MID)
    first.close()
    second.close()
    assert _connections(sim) == 3
    gateway.close()


def test_a_refusal_keeps_the_session_a_failure_does_not(start: StartSimulator) -> None:
    sim = start("tl1")
    gateway = SwitchGateway(2)
    defn = sim.definition()
    with gateway.open(defn) as line, pytest.raises(SwitchDenied):
        sim.control("deny 1 IDNV")
        line.insert(Subscriber(MID, "20000000001", "10"))
    with gateway.open(defn) as line:
        assert line.query(MID) is None
    assert _connections(sim) == 1

    sim.stop()
    with gateway.open(defn) as line, pytest.raises(LineDown):
        line.query(MID)
    # The failed session was logged off, not kept: a simulator back on the same file and a
    # new URL is reached afresh.
    back = start("tl1", store=sim.store_path)
    with gateway.open(back.definition()) as line:
        assert line.query(MID) is None
    assert _connections(back) == 1
    gateway.close()


def test_a_changed_switch_row_or_a_long_idle_opens_anew(sim: SimulatorProcess) -> None:
    gateway = SwitchGateway(5, idle_seconds=0.0)
    defn = sim.definition()
    with gateway.open(defn) as line:
        line.query(MID)
    with gateway.open(defn) as line:  # idle for longer than the gateway keeps a session
        line.query(MID)
    assert _connections(sim) == 2

    gateway = SwitchGateway(5)
    with gateway.open(defn) as line:
        line.query(MID)
    with gateway.open(replace(defn, code="HOU9")) as line:  # the row was edited meanwhile
        line.query(MID)
    assert _connections(sim) == 4
    gateway.close()


def test_a_dump_left_half_way_is_not_kept(sim: SimulatorProcess) -> None:
    gateway = SwitchGateway(5)
    defn = sim.definition()
    with gateway.open(defn) as line:
        for n in range(3):
            line.insert(Subscriber(f"71355501{n:02d}", f"200000000{n:02d}", "10"))
    line = gateway.open(defn)
    dump = line.dump()
    assert next(dump).mid == "7135550100"
    dump.close()
    line.close()
    with gateway.open(defn) as line:
        assert [s.mid for s in line.dump()] == ["7135550100", "7135550101", "7135550102"]
    assert _connections(sim) == 2
    # The comparison's bulk read, by batches: the same rule.
    line = gateway.open(defn)
    batches = line.dump_records()
    assert next(batches)[0][0] == "7135550100"
    batches.close()
    line.close()
    with gateway.open(defn) as line:
        whole = [record for batch in line.dump_records() for record in batch]
    assert [record[0] for record in whole] == ["7135550100", "7135550101", "7135550102"]
    assert _connections(sim) == 3
    gateway.close()


def test_closing_the_gateway_logs_off(sim: SimulatorProcess) -> None:
    gateway = SwitchGateway(5)
    defn = sim.definition()
    line = gateway.open(defn)
    line.query(MID)
    line.close()
    gateway.close()
    with pytest.raises(RuntimeError, match="closed"):
        line.query(MID)
    with gateway.open(defn) as again:
        again.query(MID)
    assert _connections(sim) == 2
    gateway.close()


def test_a_kept_line_the_switch_dropped_is_reconnected_unseen(start: StartSimulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = start("tl1", listen=f"127.0.0.1:{port}")
    gateway = SwitchGateway(5)
    defn = first.definition()
    with gateway.open(defn) as line:
        line.insert(Subscriber(MID, "20000000001", "10"))
    first.stop()  # the switch restarts: the kept session's line is dead
    again = start("tl1", store=first.store_path, listen=f"127.0.0.1:{port}")
    assert again.url == defn.primary_url
    with gateway.open(defn) as line:
        line.suspend(MID)  # no error reaches the user: the session dials the switch again
    assert again.subscribers() == [Subscriber(MID, "20000000001", "10", "suspended")]
    assert _connections(again) == 1
    gateway.close()
