"""The TL1 codec on its own: golden bytes, parts, acknowledgements, autonomous messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switch_adapters.codec import CodecError
from switch_adapters.tl1_codec import (
    Ack,
    AtagGap,
    Autonomous,
    BadCommand,
    Command,
    Response,
    TL1Client,
    TL1Server,
    quote,
    unquote,
    unquoted_text,
)

STAMP = "24-03-01 12:30:45"


def test_command_golden_bytes() -> None:
    command = Command("ENT-SUB", "HOU1", "7135550001", "42", "", ("ESN=13803186457,FEAT=10",))
    assert command.encode() == b"ENT-SUB:HOU1:7135550001:42::ESN=13803186457,FEAT=10;"
    assert Command("RTRV-HDR", "HOU1", "", "7").encode() == b"RTRV-HDR:HOU1::7;"


# The commands after an insertion, as the TL1 session's default templates write them.
LIFE_COMMANDS = [
    (
        Command("ED-SUB", "HOU1", "7135550001", "43", "", ("ESN=13803186458,FEAT=20",)),
        b"ED-SUB:HOU1:7135550001:43::ESN=13803186458,FEAT=20;",
    ),
    (
        Command("ED-SUB", "HOU1", "7135550001", "44", "", ("ESN=13803186458",)),
        b"ED-SUB:HOU1:7135550001:44::ESN=13803186458;",
    ),
    (
        Command("ED-SUB", "HOU1", "7135550001", "45", "", ("FEAT=",)),
        b"ED-SUB:HOU1:7135550001:45::FEAT=;",
    ),
    (Command("RMV-SUB", "HOU1", "7135550001", "46"), b"RMV-SUB:HOU1:7135550001:46;"),
    (Command("RST-SUB", "HOU1", "7135550001", "47"), b"RST-SUB:HOU1:7135550001:47;"),
]


@pytest.mark.parametrize(("command", "wire"), LIFE_COMMANDS, ids=lambda v: str(v)[:30])
def test_the_commands_of_a_lines_life_golden_bytes_and_back(command: Command, wire: bytes) -> None:
    assert command.encode() == wire
    assert TL1Server().feed(wire) == [command]


def test_a_retrieved_line_carries_its_primary_state() -> None:
    lines = ('"7135550001:ESN=13803186457,FEAT=10:IS"', '"7135550002:ESN=13803186458,FEAT=:OOS"')
    response = Response("HOU1", "48", "COMPLD", lines, True, STAMP)
    wire = (
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  48 COMPLD\r\n"
        b'   "7135550001:ESN=13803186457,FEAT=10:IS"\r\n'
        b'   "7135550002:ESN=13803186458,FEAT=:OOS"\r\n;'
    )
    assert response.encode() == wire
    assert TL1Client().feed(wire) == [response]
    assert unquoted_text(response.lines) == (
        "7135550001:ESN=13803186457,FEAT=10:IS\n7135550002:ESN=13803186458,FEAT=:OOS"
    )


def test_server_reads_commands_split_anywhere() -> None:
    wire = b"ACT-USER:HOU1:cas:1::hou1-secret;\r\nRTRV-SUB:HOU1:7135550001:2;\r\n"
    server = TL1Server()
    events = []
    for i in range(len(wire)):
        events += server.feed(wire[i : i + 1])
    assert events == [
        Command("ACT-USER", "HOU1", "cas", "1", "", ("hou1-secret",)),
        Command("RTRV-SUB", "HOU1", "7135550001", "2"),
    ]
    assert events[0].payload == ("hou1-secret",)


def test_command_parameters() -> None:
    command = TL1Server().feed(b"ent-sub:HOU1:7135550001:9::ESN=13803186457,FEAT=10;")[0]
    assert isinstance(command, Command)
    assert command.verb == "ENT-SUB"
    assert command.parameters() == {"ESN": "13803186457", "FEAT": "10"}


def test_server_reports_unreadable_input_and_goes_on() -> None:
    events = TL1Server().feed(b"HELLO;ENT-SUB:HOU1:7135550001:;RTRV-HDR:::5;")
    assert [type(e) for e in events] == [BadCommand, BadCommand, Command]
    assert events[1].reason == "missing or bad correlation tag"
    overflow = TL1Server().feed(b"A" * 5000)
    assert isinstance(overflow[0], BadCommand)


def test_response_golden_bytes() -> None:
    response = Response(
        "HOU1", "42", "COMPLD", ('"7135550001:ESN=13803186457,FEAT=10"',), True, STAMP
    )
    assert response.encode() == (
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\n"
        b"M  42 COMPLD\r\n"
        b'   "7135550001:ESN=13803186457,FEAT=10"\r\n'
        b";"
    )
    denial = Response("HOU1", "43", "DENY", ("IEAE", "/* MID already in service */"), True, STAMP)
    assert denial.encode() == (
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  43 DENY\r\n"
        b"   IEAE\r\n   /* MID already in service */\r\n;"
    )
    assert denial.error_code == "IEAE"
    assert denial.comment == "MID already in service"
    assert Ack("IP", "44").encode() == b"IP 44\r\n<"


def test_client_decodes_a_denial() -> None:
    wire = b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  43 DENY\r\n   SAIS\r\n   /* ESN active */\r\n;"
    (event,) = TL1Client().feed(wire)
    assert event == Response("HOU1", "43", "DENY", ("SAIS", "/* ESN active */"), True, STAMP)
    assert event.text == "DENY\nSAIS\n/* ESN active */"


def test_multi_part_reply_with_ack_and_interleaved_autonomous_messages() -> None:
    parts = [
        Ack("IP", "9"),
        Response("HOU1", "9", "COMPLD", ('"a"', '"b"'), False, STAMP),
        Autonomous("HOU1", "*C", 17, "REPT ALM EQPT", ('"LINE-2:CR,LOS,SA"',), True, STAMP),
        Response("HOU1", "9", "COMPLD", ('"c"',), False, STAMP),
        Autonomous("HOU1", "A ", 18, "REPT EVT SESSION", (), True, STAMP),
        Response("HOU1", "9", "COMPLD", (), True, STAMP),
    ]
    wire = b"".join(p.encode() for p in parts)
    client = TL1Client()
    events = []
    for i in range(0, len(wire), 7):
        events += client.feed(wire[i : i + 7])
    assert events == parts
    responses = [e for e in events if isinstance(e, Response)]
    assert [line for r in responses for line in r.data] == ["a", "b", "c"]
    assert [r.final for r in responses] == [False, False, True]
    assert events[0].in_progress


def test_atag_gap_is_reported_before_the_message() -> None:
    client = TL1Client()
    first = Autonomous("HOU1", "A ", 5, "REPT EVT SESSION", stamp=STAMP)
    continued = Autonomous("HOU1", "**", 6, "REPT ALM EQPT", ('"x"',), False, STAMP)
    rest = Autonomous("HOU1", "**", 6, "REPT ALM EQPT", ('"y"',), True, STAMP)
    skipped = Autonomous("HOU1", "A ", 9, "REPT EVT SESSION", stamp=STAMP)
    assert client.feed(first.encode()) == [first]
    assert client.feed(continued.encode() + rest.encode()) == [continued, rest]
    assert client.feed(skipped.encode()) == [AtagGap(expected=7, received=9), skipped]
    assert client.last_atag == 9


@pytest.mark.parametrize(
    "wire",
    [
        b"\xff\x00garbage;",
        b"\r\n\n   HOU1 yesterday\r\nM  1 COMPLD\r\n;",
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\nX  1 COMPLD\r\n;",
        b'\r\n\n   HOU1 24-03-01 12:30:45\r\nM  1 COMPLD\r\n   "ok"\r\n<',
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  1 COMPLD\r\nunindented\r\n;",
        b"XX 12\r\n<",
    ],
)
def test_malformed_messages_are_codec_errors(wire: bytes) -> None:
    with pytest.raises(CodecError):
        TL1Client().feed(wire)


def test_cut_off_message_is_an_error_at_end_of_data() -> None:
    client = TL1Client()
    assert client.feed(b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  1 COMPLD\r\n") == []
    with pytest.raises(CodecError, match="middle of a message"):
        client.feed(b"")
    assert TL1Client().feed(b"\r\n") == []


def test_quote_round_trip() -> None:
    assert quote('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    assert unquote(quote('say "hi" \\o/')) == 'say "hi" \\o/'


def test_a_body_in_any_layout_reads_as_its_lines() -> None:
    wire = (
        b"\r\n\n   HOU1 24-03-01 12:30:45\r\nM  7 COMPLD\r\n"
        b'   "a"\r\n      "b"   \r\n   /* c */\n   d\r\n;'
    )
    (response,) = TL1Client().feed(wire)
    assert response.lines == ('"a"', '"b"', "/* c */", "d")
    assert response.data == ["a", "b"]


@pytest.mark.parametrize("line", ["two\nlines", "trailing ", " leading", ""])
def test_a_line_that_would_not_read_back_the_same_is_not_sent(line: str) -> None:
    with pytest.raises(CodecError, match="cannot put"):
        Response("HOU1", "7", "COMPLD", ('"fine"', line)).encode()


@pytest.mark.parametrize(
    ("lines", "text"),
    [
        (['"a:1"', '"b:2"'], "a:1\nb:2"),
        (['"only"'], "only"),
        ([], None),
        (['"a"', "/* comment */"], None),
        (['"a\\"b"'], None),  # an escape: line by line
        (['"a"b"'], None),  # a bare quote inside
        (['"a', 'b"'], None),
        (['"'], None),
    ],
)
def test_plainly_quoted_bodies_are_unquoted_at_once(lines: list[str], text: str | None) -> None:
    assert unquoted_text(lines) == text


# -- properties ------------------------------------------------------------------------------

blocks = st.text(st.sampled_from("ABCXYZ0123456789=,&.-_ "), max_size=12)
ctags = st.text(st.sampled_from("abcXYZ0123456789."), min_size=1, max_size=6)
sids = st.text(st.sampled_from("HOU1-_ABC9"), min_size=1, max_size=8)
body_lines = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).map(quote),
)
stamps = st.builds(
    "{:02d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format,
    *[st.integers(0, 99)] * 6,
)
verbs = st.from_regex(r"[A-Z]{2,5}(-[A-Z0-9]{1,4}){0,2}", fullmatch=True)


@settings(deadline=None)
@given(verbs, blocks, blocks, ctags, blocks, st.lists(blocks, max_size=3))
def test_command_round_trip(verb, tid, aid, ctag, general, payload) -> None:  # type: ignore[no-untyped-def]
    command = Command(verb, tid, aid, ctag, general, tuple(payload))
    (parsed,) = TL1Server().feed(command.encode())
    assert parsed == command


responses = st.builds(
    Response,
    sids,
    ctags,
    st.sampled_from(["COMPLD", "DENY", "PRTL", "DELAY", "RTRV"]),
    st.lists(body_lines, max_size=4).map(tuple),
    st.booleans(),
    stamps,
)
autonomous = st.builds(
    Autonomous,
    sids,
    st.sampled_from(["*C", "**", "* ", "A "]),
    st.integers(0, 10**9 - 1),
    st.sampled_from(["REPT ALM EQPT", "REPT EVT SESSION", "REPT DBCHG"]),
    st.lists(body_lines, max_size=3).map(tuple),
    st.just(True),
    stamps,
)
acks = st.builds(Ack, st.sampled_from(["IP", "PF", "OK", "NA", "NG", "RL"]), ctags)


@settings(deadline=None)
@given(st.lists(st.one_of(responses, acks, autonomous), max_size=6), st.integers(1, 50))
def test_messages_round_trip_in_any_chunking(messages, chunk) -> None:  # type: ignore[no-untyped-def]
    wire = b"".join(m.encode() for m in messages)
    client = TL1Client()
    events = []
    for i in range(0, len(wire), chunk):
        events += client.feed(wire[i : i + chunk])
    client.feed(b"")
    assert [e for e in events if not isinstance(e, AtagGap)] == messages


@settings(deadline=None)
@given(st.lists(body_lines, max_size=6))
def test_unquoting_at_once_agrees_with_line_by_line(lines: list[str]) -> None:
    text = unquoted_text(lines)
    if text is not None:
        assert text.split("\n") == [unquote(line) for line in lines]
    elif lines and all(line.startswith('"') for line in lines):
        assert any("\\" in line or line.count('"') != 2 for line in lines)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_give_events_or_a_codec_error(data: bytes) -> None:
    client = TL1Client()
    try:
        client.feed(data)
        client.feed(b"")
    except CodecError:
        pass
    server = TL1Server()
    for event in server.feed(data):
        assert isinstance(event, Command | BadCommand)


@settings(deadline=None)
@given(st.lists(responses, min_size=1, max_size=3), st.data())
def test_truncated_bytes_give_a_codec_error_never_a_wrong_event(messages, data) -> None:  # type: ignore[no-untyped-def]
    wire = b"".join(m.encode() for m in messages)
    cut = data.draw(st.integers(0, len(wire) - 1))
    client = TL1Client()
    events = client.feed(wire[:cut])
    assert events == messages[: len(events)]
    left = wire[len(b"".join(m.encode() for m in events)) : cut]
    if left.strip():
        with pytest.raises(CodecError):
            client.feed(b"")
    else:
        assert client.feed(b"") == []
