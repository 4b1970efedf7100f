"""What only TL1 does: log-on, error codes, acknowledgements, autonomous messages, templates."""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable

import pytest

from switch_adapters import default_commands, open_session, session_class
from switch_adapters.port import (
    CommandTemplate,
    Garbled,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
)
from switch_adapters.simulator.store import Store
from switch_adapters.tl1 import DEFAULT_COMMANDS, TL1Session
from switch_adapters.tl1_codec import Response, TL1Client

DEADLINE = 1.0


def sub(n: int) -> Subscriber:
    return Subscriber(f"713555{n:04d}", f"138031{n:05d}", "10")


def test_registry_gives_the_tl1_session_and_its_templates() -> None:
    assert session_class("tl1") is TL1Session
    assert default_commands("tl1") == DEFAULT_COMMANDS
    assert set(default_commands("tl1")) >= {"insert", "delete", "query", "dump"}
    with pytest.raises(ValueError, match="unknown switch dialect"):
        default_commands("x25")


def test_denials_carry_the_switch_code_and_reason(sim) -> None:  # type: ignore[no-untyped-def]
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        session.insert(sub(1))
        with pytest.raises(SwitchDenied) as duplicate:
            session.insert(Subscriber(sub(1).mid, sub(2).esn, "10"))
        assert duplicate.value.code == "IEAE"
        assert "already in service" in duplicate.value.reason
        with pytest.raises(SwitchDenied) as active:
            session.insert(Subscriber(sub(3).mid, sub(1).esn, "10"))
        assert active.value.code == "SAIS"
        sim.control("deny 1 IDNV")
        with pytest.raises(SwitchDenied) as on_request:
            session.insert(sub(4))
        assert on_request.value.code == "IDNV"
    assert sim.subscribers() == [sub(1)]


def test_wrong_secret_is_denied_without_failover(start) -> None:  # type: ignore[no-untyped-def]
    sim = start("tl1")
    backup = start("tl1")
    definition = sim.definition("HOU1", backup_url=backup.url)
    wrong = type(definition)(**{**definition.__dict__, "logon_secret": "guess"})
    with pytest.raises(SwitchDenied) as denied:
        open_session(wrong, deadline=DEADLINE)
    assert denied.value.code == "PIUI"
    assert backup.stats().get("logon", 0) == 0


def test_wrong_target_identifier_is_denied(start) -> None:  # type: ignore[no-untyped-def]
    sim = start("tl1", sid="HOU9")
    with pytest.raises(SwitchDenied) as denied:
        open_session(sim.definition("HOU1"), deadline=DEADLINE)
    assert denied.value.code == "IITA"


def test_autonomous_messages_are_never_taken_for_answers(start, caplog) -> None:  # type: ignore[no-untyped-def]
    sim = start("tl1", extra_args=["--rept-every", "1"])  # a REPT before every answer
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        assert isinstance(session, TL1Session)
        sim.control("rept 2")
        for n in range(1, 6):
            session.insert(sub(n))
        sim.control("gap")
        with caplog.at_level(logging.WARNING, logger="switch_adapters.tl1"):
            assert session.query(sub(2).mid) == sub(2)
            assert [s.mid for s in session.dump()] == [sub(n).mid for n in range(1, 6)]
        assert len(session.autonomous) >= 7
        assert all(m.verb.startswith("REPT") for m in session.autonomous)
        assert len(session.atag_gaps) == 1
        gap = session.atag_gaps[0]
        assert gap.received == gap.expected + 1
        assert "autonomous messages lost" in caplog.text
    assert sim.stats()["autonomous"] >= 7


def test_commands_come_from_the_switch_row(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {
        # The same switch with the plan in its own parameter order, and a stricter pattern.
        "insert": CommandTemplate(
            "ENT-SUB:{tid}:{mid}:{ctag}::FEAT={features},ESN={esn};", r"^COMPLD$"
        ),
    }
    with open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE) as session:
        session.insert(sub(1))
    assert sim.subscribers() == [sub(1)]


def test_an_answer_not_matching_the_expected_pattern_is_not_success(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {"logon": CommandTemplate(DEFAULT_COMMANDS["logon"].format, r"^COMPLD\nWELCOME")}
    with pytest.raises(SwitchDenied, match="not as expected"):
        open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE)


def test_an_unexpected_answer_is_checked_against_what_the_switch_holds(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {
        "insert": CommandTemplate(DEFAULT_COMMANDS["insert"].format, r"^COMPLD\nADDED"),
        "delete": CommandTemplate(DEFAULT_COMMANDS["delete"].format, r"^COMPLD\nDELETED"),
    }
    with open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE) as session:
        session.insert(sub(1))  # not the answer the row expects, but the switch holds it
        assert session.query(sub(1).mid) == sub(1)
        session.delete(sub(1).mid)
    assert sim.subscribers() == []
    assert sim.stats()["insert"] == 1


def test_a_command_the_switch_does_not_know_is_denied(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {"insert": CommandTemplate("ADD-MS:{tid}:{mid}:{ctag}::ESN={esn};", "^COMPLD")}
    with open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE) as session:
        with pytest.raises(SwitchDenied) as denied:
            session.insert(sub(1))
        assert denied.value.code == "ICNV"


def test_a_format_string_that_is_no_tl1_command_is_refused_before_sending(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {"query": CommandTemplate("RTRV-SUB {mid}", "x")}
    with open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE) as session:
        with pytest.raises(ValueError, match="no TL1 command"):
            session.query(sub(1).mid)


def test_values_that_would_break_the_command_are_refused(sim) -> None:  # type: ignore[no-untyped-def]
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        with pytest.raises(ValueError):
            session.insert(Subscriber("7135550001", "13803186457", "10;DLT-SUB::ALL:1"))
        with pytest.raises(ValueError):
            session.query("7135550001:ALL")
    assert sim.stats().get("insert", 0) == 0


def test_the_same_session_queries_before_resending_an_unanswered_insert(sim) -> None:  # type: ignore[no-untyped-def]
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("delay 30")
        with pytest.raises(Exception, match="deadline"):
            session.insert(sub(1))
        sim.control("clear")
        queries = sim.stats().get("query", 0)
        session.insert(sub(1))
        stats = sim.stats()
    assert stats["insert"] == 1  # the retry asked first and found it done
    assert stats["query"] == queries + 1
    assert sim.subscribers() == [sub(1)]


def test_keepalive_checks_an_idle_line_and_fails_over(start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "shared.db"
    primary = start("tl1", store=store)
    backup = start("tl1", store=store)
    definition = primary.definition("HOU1", backup_url=backup.url)
    session = TL1Session(definition, DEADLINE, keepalive_interval=0.0)
    try:
        session.insert(sub(1))
        assert primary.stats()["connections"] == 1
        primary.kill()
        session.insert(sub(2))  # the keep-alive finds the line dead before the insert goes
        assert session.url == backup.url
        assert backup.stats()["insert"] == 1
        session.keepalive()
    finally:
        session.close()
    assert backup.subscribers() == [sub(1), sub(2)]


def test_ctags_are_unique_on_the_line(sim) -> None:  # type: ignore[no-untyped-def]
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        assert isinstance(session, TL1Session)
        sent = [session._send(session.trunk.ensure(0), "keepalive") for _ in range(5)]
    assert len(set(sent)) == 5


@pytest.fixture
def scripted_switch():  # type: ignore[no-untyped-def]
    """A TL1 peer written as raw bytes: answer each command with what the script returns."""
    servers: list[socket.socket] = []

    def start(script: Callable[[str, str], bytes]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                pending = b""
                while data := conn.recv(4096):
                    pending += data
                    while b";" in pending:
                        command, pending = pending.split(b";", 1)
                        verb, _, _, ctag = command.decode().strip().split(":")[:4]
                        conn.sendall(script(verb, ctag))

        threading.Thread(target=serve, daemon=True).start()
        return f"socket://127.0.0.1:{server.getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


HEAD = b"\r\n\n   HOU1 24-03-01 12:30:45\r\n"


def test_late_answers_acks_and_alarms_are_skipped_until_the_real_answer(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    def script(verb: str, ctag: str) -> bytes:
        if verb != "RTRV-SUB":
            return HEAD + b"M  " + ctag.encode() + b" COMPLD\r\n;"
        tag = ctag.encode()
        return (
            HEAD
            + b"M  999 COMPLD\r\n"
            + b'   "7135550009:ESN=13803100009,FEAT=30:IS"\r\n;'
            + b"IP "
            + tag
            + b"\r\n<"
            + HEAD
            + b"*C 1 REPT ALM EQPT\r\n"
            + b'   "7135550008:ESN=13803100008,FEAT=20:IS"\r\n;'
            + HEAD
            + b"M  "
            + tag
            + b" COMPLD\r\n"
            + b'   "7135550001:ESN=13803100001,FEAT=10:IS"\r\n>'
            + HEAD
            + b"A  3 REPT EVT SESSION\r\n;"
            + HEAD
            + b"M  "
            + tag
            + b" COMPLD\r\n;"
        )

    definition = SwitchDefinition("HOU1", "tl1", "HOU1", scripted_switch(script))
    with open_session(definition, deadline=DEADLINE) as session:
        assert session.query("7135550001") == Subscriber("7135550001", "13803100001", "10")
        assert [m.atag for m in session.autonomous] == [1, 3]
        assert [(g.expected, g.received) for g in session.atag_gaps] == [(2, 3)]


def test_final_acknowledgements_end_a_command(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    held = b'   "7135550001:ESN=13803100001,FEAT=10:IS"\r\n'

    def script(verb: str, ctag: str) -> bytes:
        tag = ctag.encode()
        if verb == "ENT-SUB":
            return b"OK " + tag + b"\r\n<"  # done, and no response follows
        if verb == "DLT-SUB":
            return b"RL " + tag + b"\r\n<"  # busy: repeat later
        body = held if verb == "RTRV-SUB" else b""
        return HEAD + b"M  " + tag + b" COMPLD\r\n" + body + b";"

    definition = SwitchDefinition("HOU1", "tl1", "HOU1", scripted_switch(script))
    with open_session(definition, deadline=DEADLINE) as session:
        session.insert(Subscriber("7135550001", "13803100001", "10"))
        with pytest.raises(SwitchDenied) as denied:
            session.delete("7135550001")
    assert denied.value.code == "RL"


def test_the_changes_go_on_the_line_as_the_templates_write_them(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    def script(verb: str, ctag: str) -> bytes:
        return HEAD + b"M  " + ctag.encode() + b" COMPLD\r\n;"

    received: list[bytes] = []
    url = scripted_switch(script)
    definition = SwitchDefinition("HOU1", "tl1", "HOU1", url)
    with open_session(definition, deadline=DEADLINE) as session:
        assert isinstance(session, TL1Session)
        line = session.trunk.ensure(0)
        original = line.write
        line.write = lambda data: (received.append(data), original(data))[1]  # type: ignore[method-assign]
        session.modify("7135550001", esn="13803186458", features="20")
        session.modify("7135550001", esn="13803186458")
        session.modify("7135550001", features="")
        session.suspend("7135550001")
        session.restore("7135550001")
    ctag = re.compile(rb"^((?:[^:]*:){3})[^:;]+")  # correlation tags differ by session
    assert [ctag.sub(rb"\1C", data) for data in received] == [
        b"ED-SUB:HOU1:7135550001:C::ESN=13803186458,FEAT=20;\r\n",
        b"ED-SUB:HOU1:7135550001:C::ESN=13803186458;\r\n",
        b"ED-SUB:HOU1:7135550001:C::FEAT=;\r\n",
        b"RMV-SUB:HOU1:7135550001:C;\r\n",
        b"RST-SUB:HOU1:7135550001:C;\r\n",
    ]


def test_a_row_template_leaves_out_the_parameter_not_changed_wherever_it_stands(sim) -> None:  # type: ignore[no-untyped-def]
    commands = {
        "modify": CommandTemplate(
            "ED-SUB:{tid}:{mid}:{ctag}::FEAT={features},ESN={esn};", "^COMPLD"
        )
    }
    with open_session(sim.definition("HOU1", commands=commands), deadline=DEADLINE) as session:
        session.insert(sub(1))
        session.modify(sub(1).mid, esn="13899900001")
        session.modify(sub(1).mid, features="30")
    assert sim.subscribers() == [Subscriber(sub(1).mid, "13899900001", "30")]


def test_the_simulator_speaks_the_documented_verbs_and_codes(sim) -> None:  # type: ignore[no-untyped-def]
    client = TL1Client()

    def answer(sock: socket.socket, command: str) -> Response:
        ctag = command.split(":")[3].rstrip(";")
        sock.sendall(command.encode() + b"\r\n")
        while True:
            for event in client.feed(sock.recv(4096)):
                if isinstance(event, Response) and event.ctag == ctag and event.final:
                    return event

    mid = sub(1).mid
    host, port = sim.url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        assert answer(sock, "ACT-USER:HOU1:cas:1::hou1-secret;").status == "COMPLD"
        assert answer(sock, f"ENT-SUB:HOU1:{mid}:2::ESN={sub(1).esn},FEAT=10;").status == "COMPLD"
        outcomes = [
            answer(sock, command)
            for command in (
                f"RST-SUB:HOU1:{mid}:3;",
                f"RMV-SUB:HOU1:{mid}:4;",
                f"RMV-SUB:HOU1:{mid}:5;",
                f"RTRV-SUB:HOU1:{mid}:6;",
                f"ED-SUB:HOU1:{mid}:7::FEAT=20;",
                f"ED-SUB:HOU1:{mid}:8;",
                "ED-SUB:HOU1:7135559999:9::FEAT=20;",
                f"RST-SUB:HOU1:{mid}:10;",
                f"RTRV-SUB:HOU1:{mid}:11;",
            )
        ]
    assert [(o.status, o.error_code) for o in outcomes] == [
        ("DENY", "SAIS"),
        ("COMPLD", ""),
        ("DENY", "SAOS"),
        ("COMPLD", ""),
        ("COMPLD", ""),
        ("DENY", "IDNV"),
        ("DENY", "IENE"),
        ("COMPLD", ""),
        ("COMPLD", ""),
    ]
    assert outcomes[3].data == [f"{mid}:ESN={sub(1).esn},FEAT=10:OOS"]
    assert outcomes[8].data == [f"{mid}:ESN={sub(1).esn},FEAT=20:IS"]


def dump_script(*parts: bytes) -> Callable[[str, str], bytes]:
    """A switch whose dump is the given parts' body lines, each part a message of its own."""

    def script(verb: str, ctag: str) -> bytes:
        tag = ctag.encode()
        if verb != "RTRV-SUB":
            return HEAD + b"M  " + tag + b" COMPLD\r\n;"
        messages = [
            HEAD + b"M  " + tag + b" COMPLD\r\n" + body + (b";" if n == len(parts) - 1 else b">")
            for n, body in enumerate(parts)
        ]
        return b"".join(messages)

    return script


def body(*lines: str) -> bytes:
    return b"".join(b"   " + line.encode() + b"\r\n" for line in lines)


def test_a_dump_is_read_a_part_at_a_time_and_a_garbled_part_keeps_what_it_showed(
    scripted_switch,
) -> None:  # type: ignore[no-untyped-def]
    script = dump_script(
        body('"7135550001:ESN=13803100001,FEAT=10:IS"', '"7135550002:ESN=13803100002,FEAT=:IS"'),
        body('"7135550003:ESN=13803100003,FEAT=30:OOS"', '"7135550004:ESN=NOT-AN-ESN,FEAT=10:IS"'),
    )
    definition = SwitchDefinition("HOU1", "tl1", "HOU1", scripted_switch(script))
    with open_session(definition, deadline=DEADLINE) as session:
        assert isinstance(session, TL1Session)
        batches = session.dump_records()
        assert next(batches) == [
            ("7135550001", "13803100001", "10", "active"),
            ("7135550002", "13803100002", "", "active"),
        ]
        assert next(batches) == [("7135550003", "13803100003", "30", "suspended")]
        with pytest.raises(Garbled, match="dump line not as expected"):
            next(batches)


def test_a_dump_body_in_another_layout_reads_the_same(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    # Deeper indentation, trailing blanks, a comment line and an escaped quote: line by line.
    script = dump_script(
        b'     "7135550001:ESN=13803100001,FEAT=10:IS"  \r\n'
        b"   /* printout of the subscriber database */\r\n"
        b'   "7135550002:ESN=13803100002,FEAT=A\\"B:OOS"\r\n',
        body('"7135550003:ESN=13803100003,FEAT=30:IS"'),
    )
    definition = SwitchDefinition(
        "HOU1",
        "tl1",
        "HOU1",
        scripted_switch(script),
        commands={
            "dump": CommandTemplate(
                "RTRV-SUB:{tid}:ALL:{ctag};",
                r"^(?P<mid>\d{10}):ESN=(?P<esn>\d+),FEAT=(?P<features>[^,]*):(?P<state>IS|OOS)$",
            )
        },
    )
    with open_session(definition, deadline=DEADLINE) as session:
        assert list(session.dump()) == [
            Subscriber("7135550001", "13803100001", "10"),
            Subscriber("7135550002", "13803100002", 'A"B', "suspended"),
            Subscriber("7135550003", "13803100003", "30"),
        ]


def test_a_row_pattern_without_features_reads_a_switch_that_keeps_none(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    script = dump_script(body('"7135550001:ESN=13803100001"', '"7135550002:ESN=13803100002"'))
    pattern = r"(?P<mid>\d{10}):ESN=(?P<esn>\d{11})"
    definition = SwitchDefinition(
        "HOU1",
        "tl1",
        "HOU1",
        scripted_switch(script),
        commands={"dump": CommandTemplate("RTRV-SUB:{tid}:ALL:{ctag};", pattern)},
    )
    with open_session(definition, deadline=DEADLINE) as session:
        assert [list(batch) for batch in session.dump_records()] == [
            [
                ("7135550001", "13803100001", "", "active"),
                ("7135550002", "13803100002", "", "active"),
            ]
        ]


def test_a_dump_out_of_mid_order_is_garbled_to_whoever_reads_subscribers(scripted_switch) -> None:  # type: ignore[no-untyped-def]
    script = dump_script(
        body('"7135550002:ESN=13803100002,FEAT=10:IS"'),
        body('"7135550001:ESN=13803100001,FEAT=10:IS"'),
    )
    definition = SwitchDefinition("HOU1", "tl1", "HOU1", scripted_switch(script))
    with open_session(definition, deadline=DEADLINE) as session:
        dumped = session.dump()
        assert next(dumped) == Subscriber("7135550002", "13803100002", "10")
        with pytest.raises(Garbled, match="out of MID order at 7135550001"):
            next(dumped)
        dumped.close()
        # The rest of the answer is still on the line: it is hung up, not read as an answer.
        assert session.trunk.line is None or session.trunk.line.closed


def test_the_simulator_quotes_a_value_that_needs_it_in_the_middle_of_a_dump(
    start, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "odd.db"
    odd = Subscriber("7135550002", "13803100002", 'A"B\\C')
    with Store(path) as store:
        store.load([sub(1), odd, sub(3)])
    sim = start("tl1", store=path, extra_args=["--part-size", "2"])
    pattern = r"^(?P<mid>\d{10}):ESN=(?P<esn>\d+),FEAT=(?P<features>.*):(?P<state>IS|OOS)$"
    row = sim.definition("HOU1")
    definition = SwitchDefinition(
        row.name,
        row.dialect,
        row.code,
        row.primary_url,
        logon_name=row.logon_name,
        logon_secret=row.logon_secret,
        commands={"dump": CommandTemplate("RTRV-SUB:{tid}:ALL:{ctag};", pattern)},
    )
    with open_session(definition, deadline=DEADLINE) as session:
        assert list(session.dump()) == [sub(1), odd, sub(3)]
