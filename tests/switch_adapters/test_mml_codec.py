"""The MML dialect's codec: exact bytes, round trips, and refusal of foreign bytes."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from switch_adapters import mml_codec as mml

COLUMNS = ("MSISDN", "SUBID", "PROFILE", "STATE")


def decode(data: bytes) -> list[mml.Event]:
    output = mml.SwitchOutput()
    events = output.feed(data)
    output.end_of_stream()
    return events


def test_logon_and_an_executed_command_exact_bytes() -> None:
    command = "HGSDC:MSISDN=2815550001,SUBID=13803186457,PROFILE=10;"
    assert mml.encode_command(command) == command.encode() + b"\r\n"
    switch = (
        mml.logon_prompt("USERCODE")
        + mml.logon_prompt("PASSWORD")
        + mml.prompt()
        + mml.echo(command)
        + mml.executed()
        + mml.prompt()
    )
    assert switch == (
        b"\r\nUSERCODE:\r\nPASSWORD:\r\n<"
        b"HGSDC:MSISDN=2815550001,SUBID=13803186457,PROFILE=10;\r\nEXECUTED\r\n\r\n<"
    )
    assert decode(switch) == [
        mml.LogonPrompt("USERCODE"),
        mml.LogonPrompt("PASSWORD"),
        mml.Ready(),
        mml.Echo(command),
        mml.Executed(),
        mml.Ready(),
    ]


def test_a_refusal_exact_bytes() -> None:
    switch = mml.echo("HGSDE:MSISDN=2815550009;") + mml.not_accepted(14, "SUBSCRIBER NOT DEFINED")
    assert switch == (
        b"HGSDE:MSISDN=2815550009;\r\nNOT ACCEPTED\r\nFAULT CODE 14\r\nSUBSCRIBER NOT DEFINED\r\n"
    )
    assert decode(switch) == [
        mml.Echo("HGSDE:MSISDN=2815550009;"),
        mml.NotAccepted(14, "SUBSCRIBER NOT DEFINED"),
    ]


def test_a_two_page_printout_exact_bytes() -> None:
    switch = (
        mml.echo("HGSDP:ALL;")
        + mml.page("HLR SUBSCRIBER DATA", 1, COLUMNS)
        + mml.row(("2815550001", "13803186457", "10", "ACTIVE"))
        + mml.page("HLR SUBSCRIBER DATA", 2, COLUMNS)
        + mml.row(("2815550002", "13803186458", "", "BARRED"))
        + mml.end()
    )
    assert switch == (
        b"HGSDP:ALL;\r\n"
        b"\r\nHLR SUBSCRIBER DATA  PAGE 1\r\n\r\n"
        b"MSISDN       SUBID        PROFILE      STATE\r\n"
        b"2815550001   13803186457  10           ACTIVE\r\n"
        b"\r\nHLR SUBSCRIBER DATA  PAGE 2\r\n\r\n"
        b"MSISDN       SUBID        PROFILE      STATE\r\n"
        b"2815550002   13803186458  -            BARRED\r\n"
        b"\r\nEND\r\n"
    )
    assert decode(switch) == [
        mml.Echo("HGSDP:ALL;"),
        mml.Page("HLR SUBSCRIBER DATA", 1),
        mml.Columns(COLUMNS),
        mml.Row(("2815550001", "13803186457", "10", "ACTIVE")),
        mml.Page("HLR SUBSCRIBER DATA", 2),
        mml.Columns(COLUMNS),
        mml.Row(("2815550002", "13803186458", "", "BARRED")),
        mml.End(),
    ]


@pytest.mark.parametrize(
    ("command", "answer", "event"),
    [
        (
            "HGSUC:MSISDN=2815550001,SUBID=13803186458,PROFILE=20;",
            b"EXECUTED\r\n",
            mml.Executed(),
        ),
        ("HGSUC:MSISDN=2815550001,SUBID=13803186458;", b"EXECUTED\r\n", mml.Executed()),
        ("HGSUC:MSISDN=2815550001,PROFILE=;", b"EXECUTED\r\n", mml.Executed()),
        (
            "HGSBI:MSISDN=2815550001;",
            b"NOT ACCEPTED\r\nFAULT CODE 15\r\nSUBSCRIBER ALREADY BARRED\r\n",
            mml.NotAccepted(mml.SUBSCRIBER_BARRED, "SUBSCRIBER ALREADY BARRED"),
        ),
        (
            "HGSBE:MSISDN=2815550001;",
            b"NOT ACCEPTED\r\nFAULT CODE 16\r\nSUBSCRIBER NOT BARRED\r\n",
            mml.NotAccepted(mml.SUBSCRIBER_NOT_BARRED, "SUBSCRIBER NOT BARRED"),
        ),
    ],
    ids=lambda v: str(v)[:24],
)
def test_the_commands_of_a_lines_life_exact_bytes_and_back(
    command: str, answer: bytes, event: mml.Event
) -> None:
    assert mml.encode_command(command) == command.encode() + b"\r\n"
    (line,) = mml.ClientInput().feed(mml.encode_command(command))
    assert mml.parse_command(line).get("MSISDN") == "2815550001"
    if isinstance(event, mml.NotAccepted):
        assert mml.not_accepted(event.code, event.reason) == answer
    else:
        assert mml.executed() == answer
    switch = mml.prompt() + mml.echo(command) + answer + mml.prompt()
    assert decode(switch) == [mml.Ready(), mml.Echo(command), event, mml.Ready()]


def test_commands_parse_into_verb_and_parameters() -> None:
    command = mml.parse_command(" HGSDC:MSISDN=2815550001,SUBID=13803186457,PROFILE=10; ")
    assert command.verb == "HGSDC"
    assert command.get("SUBID") == "13803186457"
    assert command.get("NONE") is None
    assert mml.parse_command("HGSDP:ALL;").params == (("ALL", ""),)


@pytest.mark.parametrize(
    "text",
    ["HGSDC:MSISDN=1", "hgsdc:MSISDN=1;", "HGSDC:MSISDN=1,,X=2;", "HGSDC:MSISDN=1 2;", ""],
)
def test_malformed_commands_are_refused(text: str) -> None:
    with pytest.raises(mml.MMLError):
        mml.encode_command(text)


@pytest.mark.parametrize(
    "switch",
    [
        b"<HGSDP:ALL;\r\nFOO BAR\r\n",  # neither EXECUTED, NOT ACCEPTED nor a page title
        b"<HGSDP:ALL;\r\nHLR SUBSCRIBER DATA  PAGE 1\r\nA B\r\n1 2 3\r\n",  # row too wide
        b"NOT ACCEPTED\r\nFAULT 12\r\n",
        b"<HGSDP:ALL;\r\nEXECUTED\r\n\xff\r\n",
        b"<HGSDP:ALL;\x00\r\n",
        b"EXECUTED\r\n",  # an answer with no command before it
        b"X" * (mml.MAX_LINE + 1),
    ],
)
def test_foreign_output_is_refused_and_stays_refused(switch: bytes) -> None:
    output = mml.SwitchOutput()
    with pytest.raises(mml.MMLError):
        output.feed(switch)
    with pytest.raises(mml.MMLError):
        output.feed(mml.prompt())


def test_a_line_that_closes_inside_a_printout_is_refused() -> None:
    output = mml.SwitchOutput()
    output.feed(mml.echo("HGSDP:ALL;") + mml.page("HLR SUBSCRIBER DATA", 1, COLUMNS))
    with pytest.raises(mml.MMLError, match="printout"):
        output.end_of_stream()


@pytest.mark.parametrize(
    "values", [("A", "PAGE", "1"), ("END",), ("-",), ("a b",), ("é",), ()], ids=repr
)
def test_rows_that_could_not_be_read_back_are_refused(values: tuple[str, ...]) -> None:
    with pytest.raises(mml.MMLError):
        mml.row(values)


def test_client_lines_are_split_on_either_line_end() -> None:
    client = mml.ClientInput()
    assert client.feed(b"\r\ncas\r") == [""]
    assert client.feed(b"\nhou2-secret\nHGSDP:ALL;\r\n") == ["cas", "hou2-secret", "HGSDP:ALL;"]
    with pytest.raises(mml.MMLError):
        client.feed(b"\xfe\n")


words = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=14)
names = st.from_regex(r"[A-Z][A-Z0-9]{0,7}", fullmatch=True)
values = st.from_regex(r"[A-Za-z0-9\-]{1,12}", fullmatch=True)
reasons = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
titles = st.from_regex(r"[A-Z][A-Z0-9 ]{0,30}[A-Z0-9]", fullmatch=True)


@st.composite
def commands(draw: st.DrawFn) -> str:
    params = draw(st.lists(st.tuples(names, st.none() | values), max_size=5))
    body = ",".join(name if value is None else f"{name}={value}" for name, value in params)
    return f"{draw(names.filter(lambda n: len(n) > 1))}:{body};"


@st.composite
def answers(draw: st.DrawFn) -> tuple[bytes, list[mml.Event]]:
    """Return what a switch writes for one command, and the events it must decode to."""
    command = draw(commands())
    data = mml.prompt() + mml.echo(command)
    events: list[mml.Event] = [mml.Ready(), mml.Echo(command)]
    kind = draw(st.sampled_from(["executed", "refused", "printout"]))
    if kind == "executed":
        data += mml.executed()
        events.append(mml.Executed())
    elif kind == "refused":
        code, reason = draw(st.integers(0, 99999)), draw(reasons)
        data += mml.not_accepted(code, reason)
        events.append(mml.NotAccepted(code, reason.strip()))
    else:
        title = draw(titles)
        width = draw(st.integers(1, 4))
        columns = tuple(draw(st.lists(names, min_size=width, max_size=width)))
        for number in range(1, draw(st.integers(1, 3)) + 1):
            data += mml.page(title, number, columns)
            events += [mml.Page(title, number), mml.Columns(columns)]
            for _ in range(draw(st.integers(0, 3))):
                row = tuple(draw(st.lists(words, min_size=width, max_size=width)))
                try:
                    encoded = mml.row(row)
                except mml.MMLError:
                    continue
                data += encoded
                events.append(mml.Row(row))
        data += mml.end()
        events.append(mml.End())
    return data, events


@settings(deadline=None)
@given(st.lists(answers(), min_size=1, max_size=4), st.data())
def test_what_the_switch_writes_decodes_back_however_the_line_splits_it(
    dialogue: list[tuple[bytes, list[mml.Event]]], data: st.DataObject
) -> None:
    stream = b"".join(chunk for chunk, _ in dialogue) + mml.prompt()
    expected = [event for _, events in dialogue for event in events] + [mml.Ready()]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    output = mml.SwitchOutput()
    received: list[mml.Event] = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received += output.feed(stream[start:stop])
    output.end_of_stream()
    assert received == expected


@settings(deadline=None)
@given(commands())
def test_what_the_client_writes_parses_back(command: str) -> None:
    (line,) = mml.ClientInput().feed(mml.encode_command(command))
    assert line == command
    parsed = mml.parse_command(line)
    rebuilt = ",".join(f"{n}={v}" if v else n for n, v in parsed.params)
    assert f"{parsed.verb}:{rebuilt};" == command


@settings(deadline=None)
@given(answers(), st.data())
def test_a_truncated_answer_is_refused_at_end_of_stream(
    answer: tuple[bytes, list[mml.Event]], data: st.DataObject
) -> None:
    stream, _ = answer
    # Cut after the echo and before the answer's last line is complete.
    echo_end = stream.index(b";\r\n") + 3
    cut = data.draw(st.integers(echo_end, len(stream) - 3))
    output = mml.SwitchOutput()
    output.feed(stream[:cut])
    with pytest.raises(mml.MMLError):
        output.end_of_stream()


@settings(deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_decode_or_raise_mml_error(data: bytes) -> None:
    output = mml.SwitchOutput()
    try:
        output.feed(data)
        output.end_of_stream()
    except mml.MMLError:
        pass


@settings(deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("<\r\n;:=, ABCDEFGHNOPRSTUX0123456789-")), max_size=300)
)
def test_random_dialect_like_text_decodes_or_raises_mml_error(text: str) -> None:
    output = mml.SwitchOutput()
    try:
        output.feed(text.encode())
        output.end_of_stream()
    except mml.MMLError:
        pass
    try:
        for line in mml.ClientInput().feed(text.encode()):
            mml.parse_command(line)
    except mml.MMLError:
        pass


def test_a_hunting_decoder_skips_an_earlier_answer_tail_until_the_prompt() -> None:
    output = mml.SwitchOutput(hunting=True)
    tail = b"ROFILE\r\n2815550001   138\xff\r\nEXECUTED\r\nEND\r\n" + b"X" * (mml.MAX_LINE + 9)
    assert output.feed(tail) == []
    assert output.feed(b"\r\n<") == [mml.Ready()]
    assert not output.hunting
    with pytest.raises(mml.MMLError):
        output.feed(b"EXECUTED\r\n")  # strict again once the prompt came


# Printouts read and written a block of rows at a time must read exactly as row by row.


def _row_by_row(events: list[mml.Event]) -> list[mml.Event]:
    """Events with every Rows block given as the Row events it stands for."""
    out: list[mml.Event] = []
    for event in events:
        if isinstance(event, mml.Rows):
            assert event.count == event.text.count("\n") + 1
            out += [mml.Row(values) for values in event.values()]
        else:
            out.append(event)
    return out


def _decoded(stream: bytes, cuts: list[int], rows_at_once: bool) -> list[mml.Event] | str:
    output = mml.SwitchOutput(rows_at_once=rows_at_once)
    events: list[mml.Event] = []
    try:
        for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            events += output.feed(stream[start:stop])
        output.end_of_stream()
    except mml.MMLError:
        return "refused"
    return _row_by_row(events)


@settings(deadline=None)
@given(st.lists(answers(), min_size=1, max_size=4), st.data())
def test_rows_read_at_once_read_as_row_by_row(
    dialogue: list[tuple[bytes, list[mml.Event]]], data: st.DataObject
) -> None:
    stream = b"".join(chunk for chunk, _ in dialogue) + mml.prompt()
    expected = [event for _, events in dialogue for event in events] + [mml.Ready()]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    assert _decoded(stream, cuts, rows_at_once=True) == expected


@settings(deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("<\r\n;:=, ABDEGNOPRTU0123456789-\t")), max_size=300),
    st.data(),
)
def test_any_printout_like_text_reads_at_once_as_row_by_row(text: str, data: st.DataObject) -> None:
    head = mml.prompt() + mml.echo("HGSDP:ALL;") + mml.page("HLR DATA", 1, COLUMNS)
    stream = head + text.encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    assert _decoded(stream, cuts, rows_at_once=True) == _decoded(stream, cuts, rows_at_once=False)


def test_a_long_printout_comes_as_a_few_blocks() -> None:
    table = [(f"28155{n:05d}", f"138031{n:05d}", "10", "ACTIVE") for n in range(500)]
    stream = (
        mml.echo("HGSDP:ALL;")
        + mml.page("HLR SUBSCRIBER DATA", 1, COLUMNS)
        + mml.rows(table[:250])
        + mml.page("HLR SUBSCRIBER DATA", 2, COLUMNS)
        + mml.rows(table[250:])
        + mml.end()
    )
    events = mml.SwitchOutput(rows_at_once=True).feed(stream)
    assert [type(e).__name__ for e in events] == [
        "Echo", "Page", "Columns", "Rows", "Page", "Columns", "Rows", "End"
    ]  # fmt: skip
    assert [values for e in events if isinstance(e, mml.Rows) for values in e.values()] == table


row_values = st.text(alphabet=st.sampled_from(list("AB9-_. \t\r\néEND")), max_size=14)


@settings(deadline=None)
@given(st.integers(1, 4).flatmap(lambda w: st.lists(st.tuples(*[row_values] * w), max_size=6)))
@example([("9 ", "9")])  # padding cannot tell a blank in a value from one between values
@example([("-", "9")])
@example([("", "9"), ("9", "")])
@example([("END",), ("A  PAGE 2",)])
@example([("A" * 200, "B" * 200, "C" * 200)])
def test_rows_writes_what_row_writes_and_refuses_what_it_refuses(
    table: list[tuple[str, ...]],
) -> None:
    try:
        expected: bytes | None = b"".join(mml.row(values) for values in table)
    except mml.MMLError:
        expected = None
    try:
        written: bytes | None = mml.rows(table)
    except mml.MMLError:
        written = None
    assert written == expected
