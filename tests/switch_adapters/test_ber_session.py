"""The BER session against the simulator process: octets, faults, what the switch holds."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from switch_adapters import ber_codec as ber
from switch_adapters import open_session
from switch_adapters.ber import BERSession
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

NAME, SECRET = "cas", "hou3-secret"
DEADLINE = 2.0
SLACK = 0.75  # scheduling on a busy machine; the deadline itself is what is asserted

Start = Callable[..., SimulatorProcess]


def sub(n: int, features: str = "10") -> Subscriber:
    return Subscriber(f"832555{n:04d}", f"138031{n:05d}", features)


@pytest.fixture(params=["tcp", "pty"])
def line_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def hou3(start: Start, line_kind: str) -> SimulatorProcess:
    """The HOU3 switch: BER, log-on cas/hou3-secret, on TCP or on a pty."""
    return start("ber", name=NAME, secret=SECRET, sid="HOU3", pty=line_kind == "pty")


def exchange(sock: socket.socket, request: ber.Message) -> bytes:
    """Send one request frame; return the switch's answer frame, prefix included."""
    sock.sendall(ber.encode(request))
    head = _exactly(sock, 4)
    return head + _exactly(sock, int.from_bytes(head, "big"))


def _exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise AssertionError(f"line closed after {data!r}")
        data += chunk
    return data


def test_the_simulator_answers_with_the_documented_octets(start: Start) -> None:
    sim = start("ber", name=NAME, secret=SECRET)
    host, port = sim.url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # Nothing but keep-alive before log-on.
        answer = exchange(sock, ber.Insert(1, sub(1)))
        assert answer.hex() == "000000166314020101800102810c" + b"log on first".hex()
        assert exchange(sock, ber.LogOn(2, NAME, SECRET.encode())).hex() == (
            "00000010620e0201028009" + b"LOGGED ON".hex()
        )
        assert exchange(sock, ber.Insert(3, sub(1))).hex() == (
            "0000001a62180201038013" + b"SUBSCRIBER INSERTED".hex()
        )
        again = Subscriber(sub(1).mid, sub(2).esn, "10")
        assert ber.decode_message(exchange(sock, ber.Insert(4, again))[4:]) == ber.Refused(
            4, ber.ERROR_CODES["subscriberExists"], "8325550001 in service"
        )
        assert ber.decode_message(exchange(sock, ber.Query(5, sub(1).mid))[4:]) == ber.Response(
            5, "SUBSCRIBER DATA", sub(1)
        )
        # Octets that are no frame: the switch hangs up, as on a framing error.
        sock.sendall(b"\x00\x00\x00\x03\x05\x00\x00")
        assert sock.recv(100) == b""
    assert sim.subscribers() == [sub(1)]


def test_the_simulator_answers_the_changes_of_a_lines_life(start: Start) -> None:
    sim = start("ber", name=NAME, secret=SECRET)
    with Store(sim.store_path) as store:
        store.insert(sub(1))
        store.insert(sub(2))
    host, port = sim.url.removeprefix("socket://").rsplit(":", 1)
    codes = ber.ERROR_CODES
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        exchange(sock, ber.LogOn(1, NAME, SECRET.encode()))

        def answer(request: ber.Message) -> ber.Message:
            return ber.decode_message(exchange(sock, request)[4:])

        assert exchange(sock, ber.Modify(2, sub(1).mid, "13803199999")).hex() == (
            "0000001a62180201028013" + b"SUBSCRIBER MODIFIED".hex()
        )
        assert answer(ber.Modify(3, sub(1).mid, None, "20")) == ber.Response(
            3, "SUBSCRIBER MODIFIED"
        )
        assert answer(ber.Modify(4, sub(1).mid, sub(2).esn)) == ber.Refused(
            4, codes["esnInUse"], f"ESN {sub(2).esn} already active"
        )
        assert answer(ber.Modify(5, sub(1).mid)) == ber.Refused(
            5, codes["badRequest"], "nothing to modify"
        )
        assert answer(ber.Modify(6, sub(9).mid, None, "20")) == ber.Refused(
            6, codes["unknownSubscriber"], f"no subscriber on {sub(9).mid}"
        )
        assert answer(ber.Restore(7, sub(1).mid)) == ber.Refused(
            7, codes["notSuspended"], f"{sub(1).mid} is not suspended"
        )
        assert exchange(sock, ber.Suspend(8, sub(1).mid)).hex() == (
            "0000001b62190201088014" + b"SUBSCRIBER SUSPENDED".hex()
        )
        assert answer(ber.Suspend(9, sub(1).mid)) == ber.Refused(
            9, codes["alreadySuspended"], f"{sub(1).mid} already suspended"
        )
        barred = Subscriber(sub(1).mid, "13803199999", "20", "suspended")
        assert answer(ber.Query(10, sub(1).mid)) == ber.Response(10, "SUBSCRIBER DATA", barred)
        assert answer(ber.Restore(11, sub(1).mid)) == ber.Response(11, "SUBSCRIBER RESTORED")
    assert sim.subscribers() == [Subscriber(sub(1).mid, "13803199999", "20"), sub(2)]


def test_a_wrong_secret_is_denied_with_the_switch_reason(start: Start) -> None:
    sim = start("ber", name=NAME, secret=SECRET)
    definition = sim.definition("HOU3")
    wrong = type(definition)(**{**definition.__dict__, "logon_secret": "guess"})
    with pytest.raises(SwitchDenied) as denied:
        BERSession(wrong, deadline=DEADLINE)
    code = str(ber.ERROR_CODES["authorizationFailure"])
    assert (denied.value.code, denied.value.reason) == (code, "invalid name or secret")
    assert sim.stats()["logon"] == 1  # a refusal is not a line fault: no second try


def test_commands_and_a_dump_in_many_parts(start: Start, line_kind: str) -> None:
    sim = start(
        "ber", name=NAME, secret=SECRET, pty=line_kind == "pty", extra_args=["--part-size", "2"]
    )
    session = open_session(sim.definition("HOU3"), deadline=DEADLINE)
    assert isinstance(session, BERSession)  # the registry's choice for the dialect
    with session:
        for n, features in ((5, "30"), (1, ""), (3, "10"), (4, "20"), (2, "10")):
            session.insert(sub(n, features))
        assert session.query(sub(1).mid) == sub(1, "")
        assert session.query(sub(9).mid) is None
        session.delete(sub(4).mid)
        with pytest.raises(SwitchDenied) as denied:
            session.insert(Subscriber(sub(6).mid, sub(3).esn, "10"))
        assert denied.value.code == str(ber.ERROR_CODES["esnInUse"])
        session.keepalive()
        assert list(session.dump()) == [sub(1, ""), sub(2), sub(3), sub(5, "30")]
    assert sim.subscribers() == [sub(1, ""), sub(2), sub(3), sub(5, "30")]
    assert sim.stats()["dump"] == 1


def test_values_the_module_cannot_carry_are_refused_before_sending(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        with pytest.raises(ValueError):
            session.insert(Subscriber("832555000", "13803100001", "10"))  # nine digits
        with pytest.raises(ValueError):
            session.insert(Subscriber("8325550001", "1380310000A", "10"))  # a hex ESN
    assert hou3.stats().get("insert", 0) == 0


def test_denial_carries_the_switch_code_and_reason(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        hou3.control("deny 1")
        with pytest.raises(SwitchDenied) as denied:
            session.insert(sub(1))
        busy = str(ber.ERROR_CODES["switchBusy"])
        assert (denied.value.code, denied.value.reason) == (busy, "switch busy")
        hou3.control("deny 1 27")
        with pytest.raises(SwitchDenied) as denied:
            session.query(sub(1).mid)
        assert denied.value.code == "27"
    assert hou3.subscribers() == []


def test_slow_answer_past_the_deadline(hou3: SimulatorProcess, line_kind: str) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        session.insert(sub(2))
        # On a pty the switch is one terminal: while it sleeps on an answer it hears nothing.
        hou3.control("delay 30" if line_kind == "tcp" else f"delay {DEADLINE * 2}")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        hou3.control("clear")
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        # The switch did it, only late: a new session's insert is refused as a duplicate,
        # and the session, finding exactly this subscriber there, takes it as done.
        session.insert(sub(1))
    assert hou3.subscribers() == [sub(1), sub(2)]


def test_a_late_answer_inside_the_deadline_is_not_doubled(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=4.0) as session:
        hou3.control("delay 2.5 1")  # past the first attempt's half, within the whole
        session.insert(sub(1))
        assert session.query(sub(1).mid) == sub(1)
    assert hou3.subscribers() == [sub(1)]
    assert hou3.stats()["insert"] == 1


def test_a_dropped_line_leaves_one_subscriber(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        hou3.control("drop 1")
        session.insert(sub(1))
        hou3.control("drop 1")
        session.delete(sub(1).mid)
        hou3.control("drop 1")
        session.insert(sub(2))
    stats = hou3.stats()
    assert (stats["dropped"], stats["insert"], stats["delete"]) == (3, 2, 1)
    assert hou3.subscribers() == [sub(2)]


def test_garbage_is_garbled_and_does_nothing(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        hou3.control("garbage 1")
        session.insert(sub(1))  # noise once: the second attempt is heard
        hou3.control("garbage 5")
        with pytest.raises(Garbled):
            session.insert(sub(2))
        hou3.control("clear")
        assert session.query(sub(2).mid) is None
    assert hou3.subscribers() == [sub(1)]
    assert hou3.stats()["insert"] == 1


def test_silence_times_out_and_does_nothing(hou3: SimulatorProcess) -> None:
    with BERSession(hou3.definition("HOU3"), deadline=DEADLINE) as session:
        hou3.control("silent")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        hou3.control("clear")
        assert session.query(sub(1).mid) is None
    assert hou3.subscribers() == []


def test_the_switch_row_templates_rule(start: Start) -> None:
    sim = start("ber", name=NAME, secret=SECRET)
    commands = {
        "insert": CommandTemplate(
            "mid={mid} esn={esn} features=PLAN{features}", r"^SUBSCRIBER INSERTED$"
        ),
        "delete": CommandTemplate("mid={mid}", r"^REMOVED$"),
    }
    with BERSession(sim.definition("HOU3", commands=commands), deadline=DEADLINE) as session:
        session.insert(sub(1))
        assert session.query(sub(1).mid) == sub(1, "PLAN10")
        session.insert(sub(2))
        # The switch deleted it but said something else: the session checks and finds it gone.
        session.delete(sub(2).mid)
    assert sim.subscribers() == [sub(1, "PLAN10")]
    bad = {
        "delete": CommandTemplate("mid={mid} now=1", r"^SUBSCRIBER DELETED$"),
        "query": CommandTemplate("", r"^SUBSCRIBER DATA$"),
    }
    with BERSession(sim.definition("HOU3", commands=bad), deadline=DEADLINE) as session:
        with pytest.raises(ValueError, match="no field"):
            session.delete(sub(1).mid)
        with pytest.raises(ValueError, match="lacks mid"):
            session.query(sub(1).mid)
    assert sim.subscribers() == [sub(1, "PLAN10")]


def test_a_cut_dump_raises_and_the_next_dump_is_whole(start: Start, tmp_path: Path) -> None:
    path = tmp_path / "hou3.db"
    with Store(path) as store:
        store.load(sub(n) for n in range(1, 251))
    sim = start("ber", store=path, name=NAME, secret=SECRET, extra_args=["--part-size", "25"])
    with BERSession(sim.definition("HOU3"), deadline=DEADLINE) as session:
        sim.control("drop 1")
        seen: list[Subscriber] = []
        with pytest.raises((LineDown, SwitchTimeout, Garbled)):
            seen.extend(session.dump())
        assert seen == [sub(n) for n in range(1, len(seen) + 1)]
        assert list(session.dump()) == [sub(n) for n in range(1, 251)]


# A switch that breaks the dialect's rules, to show the session refuses what it sends.

Script = Callable[[ber.Message], Sequence[ber.Message | bytes]]
Rogue = Callable[[Script], SwitchDefinition]


@pytest.fixture
def rogue() -> Iterator[Rogue]:
    """Serve connections on loopback one at a time, answering requests as a script says."""
    servers: list[tuple[socket.socket, threading.Thread]] = []
    over = threading.Event()

    def serve(script: Script) -> SwitchDefinition:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)

        def run() -> None:
            while not over.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                conn.settimeout(None)
                decoder = ber.FrameDecoder()
                with conn:
                    while data := conn.recv(65536):
                        for request in decoder.feed(data):
                            answer = script(request)  # messages, or octets as they are
                            conn.sendall(
                                b"".join(
                                    m if isinstance(m, bytes) else ber.encode(m) for m in answer
                                )
                            )

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        servers.append((listener, thread))
        port = listener.getsockname()[1]
        return SwitchDefinition("ROGUE", "ber", "R", f"socket://127.0.0.1:{port}", None, NAME)

    yield serve
    over.set()
    for listener, thread in servers:
        thread.join(timeout=5)
        listener.close()


def _logged_on(answers: Script) -> Script:
    def script(request: ber.Message) -> Sequence[ber.Message | bytes]:
        if isinstance(request, ber.LogOn | ber.LogOff):
            return [ber.Response(request.invoke_id, "OK")]
        return answers(request)

    return script


@pytest.mark.parametrize(
    ("records", "count"),
    [
        ([sub(2), sub(1)], 2),  # out of MID order
        ([sub(1), sub(2)], 3),  # the end counts a record that never came
    ],
    ids=["order", "count"],
)
def test_a_dump_that_breaks_the_rules_is_garbled(
    rogue: Rogue, records: list[Subscriber], count: int
) -> None:
    def answers(request: ber.Message) -> list[ber.Message]:
        sent: list[ber.Message] = [ber.DumpRecord(request.invoke_id, s) for s in records]
        return [*sent, ber.EndOfDump(request.invoke_id, count)]

    session = BERSession(rogue(_logged_on(answers)), deadline=DEADLINE)
    with pytest.raises(Garbled):
        list(session.dump())
    session.close()


def test_a_mid_dumped_twice_is_passed_on_for_the_comparison_to_report(rogue: Rogue) -> None:
    def answers(request: ber.Message) -> list[ber.Message]:
        sent: list[ber.Message] = [ber.DumpRecord(request.invoke_id, s) for s in (sub(1), sub(1))]
        return [*sent, ber.EndOfDump(request.invoke_id, 2)]

    with BERSession(rogue(_logged_on(answers)), deadline=DEADLINE) as session:
        assert list(session.dump()) == [sub(1), sub(1)]


def test_late_answers_to_other_invoke_ids_are_skipped(rogue: Rogue) -> None:
    def answers(request: ber.Message) -> list[ber.Message]:
        assert isinstance(request, ber.Query)
        stale = ber.Response((request.invoke_id + 1) % 2**31, "SUBSCRIBER DATA", sub(7))
        return [stale, ber.Response(request.invoke_id, "SUBSCRIBER DATA", sub(1))]

    with BERSession(rogue(_logged_on(answers)), deadline=DEADLINE) as session:
        assert session.query(sub(1).mid) == sub(1)


def test_an_answer_about_another_mid_is_garbled(rogue: Rogue) -> None:
    def answers(request: ber.Message) -> list[ber.Message]:
        return [ber.Response(request.invoke_id, "SUBSCRIBER DATA", sub(7))]

    with BERSession(rogue(_logged_on(answers)), deadline=DEADLINE) as session:
        with pytest.raises(Garbled, match="answered with"):
            session.query(sub(1).mid)


def test_a_dump_in_mixed_layouts_with_late_answers_reads_every_record(rogue: Rogue) -> None:
    barred = Subscriber(sub(3).mid, sub(3).esn, "", "suspended")

    def answers(request: ber.Message) -> list[ber.Message | bytes]:
        invoke_id = request.invoke_id
        body = ber.encode_message(ber.DumpRecord(invoke_id, sub(2)))
        long_form = (len(body) + 1).to_bytes(4, "big") + body[:1] + b"\x81" + body[1:]
        return [
            ber.Response((invoke_id + 1) % 2**31, "LATE"),  # a late answer to another request
            ber.DumpRecord(invoke_id, sub(1)),
            long_form,  # the same record as pyasn1 would also read it: its length in long form
            ber.DumpRecord(invoke_id, barred),
            *(ber.DumpRecord(invoke_id, sub(n)) for n in range(4, 400)),
            ber.EndOfDump(invoke_id, 399),
        ]

    with BERSession(rogue(_logged_on(answers)), deadline=DEADLINE) as session:
        batches = list(session.dump_records())
        assert [Subscriber(*r) for batch in batches for r in batch] == [
            sub(1),
            sub(2),
            barred,
            *(sub(n) for n in range(4, 400)),
        ]
        assert len(batches) < 20  # runs of records, not one a batch


def test_a_dump_record_its_pattern_refuses_ends_the_dump_after_what_came_before(
    rogue: Rogue,
) -> None:
    def answers(request: ber.Message) -> list[ber.Message]:
        odd = Subscriber(sub(3).mid, sub(3).esn, "TWO WORDS")  # printable, not the pattern's
        records = [sub(1), sub(2), odd, sub(4)]
        return [
            *(ber.DumpRecord(request.invoke_id, s) for s in records),
            ber.EndOfDump(request.invoke_id, 4),
        ]

    with BERSession(rogue(_logged_on(answers)), deadline=DEADLINE) as session:
        batches = session.dump_records()
        assert next(batches) == [(s.mid, s.esn, s.features, s.state) for s in (sub(1), sub(2))]
        with pytest.raises(Garbled, match="dump record not as expected"):
            next(batches)
