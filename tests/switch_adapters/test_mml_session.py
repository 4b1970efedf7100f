"""The MML session against the simulator process: dialogue, faults, what the switch holds."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from switch_adapters import open_session
from switch_adapters.mml import MMLSession
from switch_adapters.port import (
    CommandTemplate,
    Garbled,
    LineDown,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
    SwitchTimeout,
)
from switch_adapters.simulator.process import SimulatorProcess
from switch_adapters.simulator.store import Store

NAME, SECRET = "cas", "hou2-secret"
DEADLINE = 2.0
SLACK = 0.75  # scheduling on a busy machine; the deadline itself is what is asserted

Start = Callable[..., SimulatorProcess]


def sub(n: int, features: str = "10") -> Subscriber:
    return Subscriber(f"281555{n:04d}", f"138031{n:05d}", features)


@pytest.fixture(params=["tcp", "pty"])
def line_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def hou2(start: Start, line_kind: str) -> SimulatorProcess:
    """The HOU2 switch: MML, log-on cas/hou2-secret, on TCP or on a pty."""
    return start("mml", name=NAME, secret=SECRET, sid="HOU2", pty=line_kind == "pty")


def receive(sock: socket.socket, until: bytes) -> bytes:
    """Read until the switch's output ends with `until` (the next prompt)."""
    data = b""
    while not data.endswith(until):
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"line closed after {data!r}")
        data += chunk
    return data


def test_the_simulator_speaks_the_documented_dialogue(start: Start) -> None:
    sim = start("mml", name=NAME, secret=SECRET)
    host, port = sim.url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\r\n")
        assert receive(sock, b"USERCODE:") == b"\r\nUSERCODE:"
        sock.sendall(b"cas\r\n")
        assert receive(sock, b"PASSWORD:") == b"\r\nPASSWORD:"
        sock.sendall(b"hou2-secret\r\n")
        assert receive(sock, b"<") == b"\r\n<"
        insert = b"HGSDC:MSISDN=2815550001,SUBID=13803100001,PROFILE=10;"
        sock.sendall(insert + b"\r\n")
        assert receive(sock, b"<") == insert + b"\r\nEXECUTED\r\n\r\n<"
        sock.sendall(b"HGSDC:MSISDN=2815550001,SUBID=13803100002,PROFILE=20;\r\n")
        assert receive(sock, b"<").endswith(
            b"\r\nNOT ACCEPTED\r\nFAULT CODE 12\r\nSUBSCRIBER ALREADY DEFINED\r\n\r\n<"
        )
        sock.sendall(b"HGSDP:MSISDN=2815550001;\r\n")
        assert receive(sock, b"<") == (
            b"HGSDP:MSISDN=2815550001;\r\n"
            b"\r\nHLR SUBSCRIBER DATA  PAGE 1\r\n\r\n"
            b"MSISDN       SUBID        PROFILE      STATE\r\n"
            b"2815550001   13803100001  10           ACTIVE\r\n"
            b"\r\nEND\r\n\r\n<"
        )
        sock.sendall(b"EXIT;\r\n")
        assert receive(sock, b"EXECUTED\r\n") == b"EXIT;\r\nEXECUTED\r\n"
        # Logged off: a command is answered with the log-on prompt, and nothing is done.
        sock.sendall(b"HGSDE:MSISDN=2815550001;\r\n")
        assert receive(sock, b"USERCODE:") == b"\r\nUSERCODE:"
    assert sim.subscribers() == [Subscriber("2815550001", "13803100001", "10")]


def test_the_simulator_speaks_the_documented_life_of_a_line(start: Start) -> None:
    sim = start("mml")
    with Store(sim.store_path) as store:
        store.insert(sub(1))
    host, port = sim.url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\r\n")
        receive(sock, b"USERCODE:")
        sock.sendall(b"cas\r\nhou1-secret\r\n")
        receive(sock, b"<")

        def exchange(command: bytes) -> bytes:
            sock.sendall(command + b"\r\n")
            answer = receive(sock, b"<")
            assert answer.startswith(command + b"\r\n")
            return answer[len(command) + 2 : -3]  # without the echo and the next prompt

        assert exchange(b"HGSUC:MSISDN=2815550001,SUBID=13803199999;") == b"EXECUTED\r\n"
        assert exchange(b"HGSUC:MSISDN=2815550001,PROFILE=20;") == b"EXECUTED\r\n"
        assert exchange(b"HGSBE:MSISDN=2815550001;") == (
            b"NOT ACCEPTED\r\nFAULT CODE 16\r\nSUBSCRIBER NOT BARRED\r\n"
        )
        assert exchange(b"HGSBI:MSISDN=2815550001;") == b"EXECUTED\r\n"
        assert exchange(b"HGSBI:MSISDN=2815550001;") == (
            b"NOT ACCEPTED\r\nFAULT CODE 15\r\nSUBSCRIBER ALREADY BARRED\r\n"
        )
        assert exchange(b"HGSDP:MSISDN=2815550001;") == (
            b"\r\nHLR SUBSCRIBER DATA  PAGE 1\r\n\r\n"
            b"MSISDN       SUBID        PROFILE      STATE\r\n"
            b"2815550001   13803199999  20           BARRED\r\n"
            b"\r\nEND\r\n"
        )
        assert exchange(b"HGSUC:MSISDN=2815550001;") == (
            b"NOT ACCEPTED\r\nFAULT CODE 3\r\nUNREASONABLE VALUE\r\n"
        )
        assert exchange(b"HGSUC:MSISDN=2815559999,PROFILE=20;") == (
            b"NOT ACCEPTED\r\nFAULT CODE 14\r\nSUBSCRIBER NOT DEFINED\r\n"
        )
        assert exchange(b"HGSBE:MSISDN=2815550001;") == b"EXECUTED\r\n"
    assert sim.subscribers() == [Subscriber("2815550001", "13803199999", "20")]


def test_the_changes_go_on_the_line_as_the_templates_write_them(start: Start) -> None:
    sim = start("mml")
    with Store(sim.store_path) as store:
        store.insert(sub(1))
    sent: list[bytes] = []
    with open_session(sim.definition("HOU2"), deadline=DEADLINE) as session:
        assert isinstance(session, MMLSession)
        line = session.trunk.ensure(0)
        original = line.write
        line.write = lambda data: (sent.append(data), original(data))[1]  # type: ignore[method-assign]
        session.modify(sub(1).mid, esn="13803199999", features="20")
        session.modify(sub(1).mid, esn="13803100001")
        session.modify(sub(1).mid, features="")
        session.suspend(sub(1).mid)
        session.restore(sub(1).mid)
    assert sent[:5] == [
        b"HGSUC:MSISDN=2815550001,SUBID=13803199999,PROFILE=20;\r\n",
        b"HGSUC:MSISDN=2815550001,SUBID=13803100001;\r\n",
        b"HGSUC:MSISDN=2815550001,PROFILE=;\r\n",
        b"HGSBI:MSISDN=2815550001;\r\n",
        b"HGSBE:MSISDN=2815550001;\r\n",
    ]
    assert sim.subscribers() == [sub(1, "")]


def test_a_wrong_secret_is_denied_with_the_switch_reason(start: Start) -> None:
    sim = start("mml", name=NAME, secret=SECRET)
    definition = sim.definition("HOU2")
    wrong = type(definition)(**{**definition.__dict__, "logon_secret": "guess"})
    with pytest.raises(SwitchDenied) as denied:
        MMLSession(wrong, deadline=DEADLINE)
    assert (denied.value.code, denied.value.reason) == ("1", "AUTHORIZATION FAILURE")
    assert sim.stats()["logon"] == 1  # a refusal is not a line fault: no second try


def test_commands_and_a_printout_of_many_pages(start: Start, line_kind: str) -> None:
    sim = start(
        "mml", name=NAME, secret=SECRET, pty=line_kind == "pty", extra_args=["--part-size", "2"]
    )
    session = open_session(sim.definition("HOU2"), deadline=DEADLINE)
    assert isinstance(session, MMLSession)  # the registry's choice for the dialect
    with session:
        for n, features in ((5, "30"), (1, ""), (3, "10"), (4, "20"), (2, "10")):
            session.insert(sub(n, features))
        assert session.query(sub(1).mid) == sub(1, "")  # an empty field is printed `-`
        assert session.query(sub(9).mid) is None
        session.delete(sub(4).mid)
        with pytest.raises(SwitchDenied) as denied:
            session.insert(Subscriber(sub(6).mid, sub(3).esn, "10"))
        assert (denied.value.code, denied.value.reason) == ("13", "SUBID ALREADY IN USE")
        session.keepalive()
        assert list(session.dump()) == [sub(1, ""), sub(2), sub(3), sub(5, "30")]
    assert sim.subscribers() == [sub(1, ""), sub(2), sub(3), sub(5, "30")]
    assert sim.stats()["dump"] == 1


def test_denial_carries_the_switch_code_and_reason(hou2: SimulatorProcess) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        hou2.control("deny 1")
        with pytest.raises(SwitchDenied) as denied:
            session.insert(sub(1))
        assert (denied.value.code, denied.value.reason) == ("4", "FUNCTION BUSY")
        hou2.control("deny 1 27")
        with pytest.raises(SwitchDenied) as denied:
            session.query(sub(1).mid)
        assert denied.value.code == "27"
    assert hou2.subscribers() == []


def test_slow_answer_past_the_deadline(hou2: SimulatorProcess, line_kind: str) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        session.insert(sub(2))
        # On a pty the switch is one terminal: while it sleeps on an answer it hears nothing.
        hou2.control("delay 30" if line_kind == "tcp" else f"delay {DEADLINE * 2}")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        hou2.control("clear")
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        # The switch did it, only late: a new session's insert is refused as a duplicate,
        # and the session, finding exactly this subscriber there, takes it as done.
        session.insert(sub(1))
    assert hou2.subscribers() == [sub(1), sub(2)]


def test_a_late_answer_inside_the_deadline_is_not_doubled(hou2: SimulatorProcess) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=4.0) as session:
        hou2.control("delay 2.5 1")  # past the first attempt's half, within the whole
        session.insert(sub(1))
        assert session.query(sub(1).mid) == sub(1)
    assert hou2.subscribers() == [sub(1)]
    assert hou2.stats()["insert"] == 1


def test_a_dropped_line_leaves_one_subscriber(hou2: SimulatorProcess) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        hou2.control("drop 1")
        session.insert(sub(1))
        hou2.control("drop 1")
        session.delete(sub(1).mid)
        hou2.control("drop 1")
        session.insert(sub(2))
    stats = hou2.stats()
    assert (stats["dropped"], stats["insert"], stats["delete"]) == (3, 2, 1)
    assert hou2.subscribers() == [sub(2)]


def test_garbage_is_garbled_and_does_nothing(hou2: SimulatorProcess) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        hou2.control("garbage 1")
        session.insert(sub(1))  # noise once: the second attempt is heard
        hou2.control("garbage 5")
        with pytest.raises(Garbled):
            session.insert(sub(2))
        hou2.control("clear")
        assert session.query(sub(2).mid) is None
    assert hou2.subscribers() == [sub(1)]
    assert hou2.stats()["insert"] == 1


def test_silence_times_out_and_does_nothing(hou2: SimulatorProcess) -> None:
    with MMLSession(hou2.definition("HOU2"), deadline=DEADLINE) as session:
        hou2.control("silent")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        hou2.control("clear")
        assert session.query(sub(1).mid) is None
    assert hou2.subscribers() == []


def test_the_switch_row_templates_rule(start: Start) -> None:
    sim = start("mml", name=NAME, secret=SECRET)
    commands = {
        "insert": CommandTemplate(
            "HGSDC:MSISDN={mid},SUBID={esn},PROFILE=P{features};", r"^EXECUTED$"
        ),
        "keepalive": CommandTemplate("CACLP;", r"^CLOCK$"),
    }
    with MMLSession(sim.definition("HOU2", commands=commands), deadline=DEADLINE) as session:
        session.insert(sub(1))
        assert session.query(sub(1).mid) == sub(1, "P10")
        with pytest.raises(SwitchDenied, match="not as expected"):
            session.keepalive()
    assert sim.subscribers() == [sub(1, "P10")]
    bad = {"delete": CommandTemplate("DELETE {mid}", r"^EXECUTED$")}
    with MMLSession(sim.definition("HOU2", commands=bad), deadline=DEADLINE) as session:
        with pytest.raises(ValueError, match="no MML command"):
            session.delete(sub(1).mid)
    assert sim.subscribers() == [sub(1, "P10")]


def test_a_cut_dump_raises_and_the_next_dump_is_whole(start: Start, tmp_path: Path) -> None:
    path = tmp_path / "hou2.db"
    with Store(path) as store:
        store.load(sub(n) for n in range(1, 251))
    sim = start("mml", store=path, name=NAME, secret=SECRET, extra_args=["--part-size", "25"])
    with MMLSession(sim.definition("HOU2"), deadline=DEADLINE) as session:
        sim.control("drop 1")
        seen: list[Subscriber] = []
        with pytest.raises((LineDown, SwitchTimeout)):
            seen.extend(session.dump())
        assert seen == [sub(n) for n in range(1, len(seen) + 1)]
        assert list(session.dump()) == [sub(n) for n in range(1, 251)]


def test_a_dump_with_a_rows_own_pattern_reads_the_same_rows(start: Start, tmp_path: Path) -> None:
    path = tmp_path / "hou2.db"
    with Store(path) as store:
        store.load([*(sub(n) for n in range(1, 120)), Subscriber(sub(120).mid, "ABCDEF", "")])
        store.set_state(sub(7).mid, "suspended")
    sim = start("mml", store=path, name=NAME, secret=SECRET, extra_args=["--part-size", "50"])
    own = CommandTemplate(
        "HGSDP:ALL;",
        r"MSISDN=(?P<mid>\d+),SUBID=(?P<esn>\w+),PROFILE=(?P<features>\w*),STATE=(?P<state>\w+)",
    )
    expected = [
        (s.mid, s.esn, s.features, "suspended" if s.mid == sub(7).mid else "active")
        for s in [*(sub(n) for n in range(1, 120)), Subscriber(sub(120).mid, "ABCDEF", "")]
    ]
    for commands in ({}, {"dump": own}):
        definition = sim.definition("HOU2", commands=commands)
        with MMLSession(definition, deadline=DEADLINE) as session:
            batches = list(session.dump_records())
        assert [record for batch in batches for record in batch] == expected
        assert len(batches) <= 6  # blocks of rows, not a batch a row


@pytest.fixture
def printing() -> Iterator[Callable[[bytes], SwitchDefinition]]:
    """An MML peer that answers its one command with a printout of the given rows."""
    servers: list[socket.socket] = []

    def start(rows: bytes) -> SwitchDefinition:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(100)
                conn.sendall(b"\r\n<")
                command = conn.recv(100).strip()
                conn.sendall(
                    command
                    + b"\r\n\r\nHLR SUBSCRIBER DATA  PAGE 1\r\n\r\n"
                    + b"MSISDN       SUBID        PROFILE      STATE\r\n"
                    + rows
                    + b"\r\nEND\r\n\r\n<"
                )
                conn.recv(100)

        threading.Thread(target=serve, daemon=True).start()
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        return SwitchDefinition("HOU2", "mml", "HOU2", url)

    yield start
    for server in servers:
        server.close()


def test_a_dump_row_not_as_expected_is_garbled_after_the_rows_before_it(printing) -> None:  # type: ignore[no-untyped-def]
    rows = (
        b"2815550001   13803100001  10           ACTIVE\r\n"
        b"2815550002   13803100002  -            BARRED\r\n"
        b"2815550003   NOT-AN-ESN   10           ACTIVE\r\n"
    )
    with MMLSession(printing(rows), deadline=DEADLINE) as session:
        batches = session.dump_records()
        assert next(batches) == [
            ("2815550001", "13803100001", "10", "active"),
            ("2815550002", "13803100002", "", "suspended"),
        ]
        with pytest.raises(Garbled, match="dump row not as expected"):
            next(batches)


def test_a_printout_line_that_is_no_row_is_garbled(printing) -> None:  # type: ignore[no-untyped-def]
    rows = (
        b"2815550001   13803100001  10           ACTIVE\r\n"
        b"2815550002   13803100002  ACTIVE\r\n"  # a field short
    )
    with MMLSession(printing(rows), deadline=DEADLINE) as session:
        with pytest.raises(Garbled, match="unexpected line"):
            list(session.dump())


def test_a_switch_asking_for_a_log_on_none_is_configured_for_is_denied(start: Start) -> None:
    sim = start("mml", name=NAME, secret=SECRET)
    definition = sim.definition("HOU2")
    anonymous = type(definition)(**{**definition.__dict__, "logon_name": "", "logon_secret": ""})
    with pytest.raises(SwitchDenied, match="asks for a log-on"):
        MMLSession(anonymous, deadline=DEADLINE)


def test_a_switch_without_log_on_takes_commands_at_once(start: Start) -> None:
    sim = start("mml", name="", secret="")
    with MMLSession(sim.definition("HOU2"), deadline=DEADLINE) as session:
        session.insert(sub(1))
    assert sim.subscribers() == [sub(1)]
    assert sim.stats().get("logon", 0) == 0
