"""The BER dialect's codec: exact octets, round trips, and refusal of foreign octets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switch_adapters import ber_codec as ber
from switch_adapters import ber_direct, ber_dump
from switch_adapters.port import Subscriber

SUBSCRIBER = Subscriber("8325550001", "13803186457", "10")
RECORD = "a11d" + "800a" + b"8325550001".hex() + "810b" + b"13803186457".hex() + "82023130"
# A suspended line's record: the state, [3] ENUMERATED suspended (1), follows the features. An
# active line's record does not write its state, the default: it is what it always was.
BARRED = Subscriber("8325550001", "13803186457", "10", "suspended")
BARRED_RECORD = "a120" + RECORD[4:] + "830101"
MID = b"8325550001".hex()

# Each frame: 4-octet length, [APPLICATION n] constructed, INTEGER invokeId, then the body.
GOLDEN: list[tuple[ber.Message, str]] = [
    (
        ber.LogOn(1, "cas", b"hou3-secret"),
        "000000196117020101a0128003636173810b" + b"hou3-secret".hex(),
    ),
    (ber.Insert(2, SUBSCRIBER), "000000246122020102" + RECORD),
    (ber.Delete(3, "8325550001"), "00000011610f020103820a" + b"8325550001".hex()),
    (ber.Query(4, "8325550001"), "00000011610f020104830a" + b"8325550001".hex()),
    (ber.Dump(5), "000000076105020105a400"),
    (
        ber.Dump(6, "8325550001"),
        "000000136111020106a40c800a" + b"8325550001".hex(),
    ),
    (ber.KeepAlive(7), "0000000761050201078500"),
    (ber.LogOff(8), "0000000761050201088600"),
    (ber.Response(2, "INSERTED"), "0000000f620d0201028008" + b"INSERTED".hex()),
    (ber.Response(4, "FOUND", SUBSCRIBER), "0000002b62290201048005" + b"FOUND".hex() + RECORD),
    (
        ber.Refused(2, 3, "MID already defined"),
        "0000001d631b0201028001038113" + b"MID already defined".hex(),
    ),
    (ber.DumpRecord(5, SUBSCRIBER), "000000246422020105" + "a01d" + RECORD[4:]),
    (ber.EndOfDump(5, 1000), "000000096507020105800203e8"),
    # The second version of the module: a line's state, and the changes after an insertion.
    (
        ber.Modify(9, "8325550001", "13803186458", "20"),
        "000000246122020109a71d800a" + MID + "810b" + b"13803186458".hex() + "82023230",
    ),
    (
        ber.Modify(10, "8325550001", "13803186458"),
        "00000020611e02010aa719800a" + MID + "810b" + b"13803186458".hex(),
    ),
    (ber.Modify(11, "8325550001", None, ""), "00000015611302010ba70e800a" + MID + "8200"),
    (ber.Suspend(12, "8325550001"), "00000011610f02010c880a" + MID),
    (ber.Restore(13, "8325550001"), "00000011610f02010d890a" + MID),
    (
        ber.Response(4, "FOUND", BARRED),
        "0000002e622c0201048005" + b"FOUND".hex() + BARRED_RECORD,
    ),
    (ber.DumpRecord(5, BARRED), "000000276425020105" + "a020" + BARRED_RECORD[4:]),
    (
        ber.Refused(12, 8, "already suspended"),
        "0000001b631902010c8001088111" + b"already suspended".hex(),
    ),
]

mids = st.text(alphabet="0123456789", min_size=10, max_size=10)
esns = st.text(alphabet="0123456789", min_size=11, max_size=11)
printable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
features = st.text(alphabet=printable, max_size=32)
states = st.sampled_from(["active", "suspended"])
subscribers = st.builds(Subscriber, mids, esns, features, states)
invoke_ids = st.integers(0, 2**31 - 1)
messages = st.one_of(
    st.builds(
        ber.LogOn,
        invoke_ids,
        st.text(alphabet=printable, min_size=1, max_size=32),
        st.binary(max_size=64),
    ),
    st.builds(ber.Insert, invoke_ids, subscribers),
    st.builds(ber.Delete, invoke_ids, mids),
    st.builds(ber.Query, invoke_ids, mids),
    st.builds(ber.Modify, invoke_ids, mids, st.none() | esns, st.none() | features),
    st.builds(ber.Suspend, invoke_ids, mids),
    st.builds(ber.Restore, invoke_ids, mids),
    st.builds(ber.Dump, invoke_ids, st.none() | mids),
    st.builds(ber.KeepAlive, invoke_ids),
    st.builds(ber.LogOff, invoke_ids),
    st.builds(
        ber.Response,
        invoke_ids,
        st.text(alphabet=printable, max_size=64),
        st.none() | subscribers,
    ),
    st.builds(ber.Refused, invoke_ids, st.integers(0, 65535), st.text(max_size=200)),
    st.builds(ber.DumpRecord, invoke_ids, subscribers),
    st.builds(ber.EndOfDump, invoke_ids, st.integers(0, 2**31 - 1)),
)


@pytest.mark.parametrize(("message", "octets"), GOLDEN, ids=lambda v: type(v).__name__)
def test_golden_octets(message: ber.Message, octets: str) -> None:
    assert ber.encode(message).hex() == octets
    assert ber.FrameDecoder().feed(bytes.fromhex(octets)) == [message]


@settings(deadline=None)
@given(st.lists(messages, min_size=1, max_size=5), st.data())
def test_what_is_encoded_decodes_back_however_the_line_splits_it(
    sent: list[ber.Message], data: st.DataObject
) -> None:
    stream = b"".join(ber.encode(m) for m in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = ber.FrameDecoder()
    received: list[ber.Message] = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received += decoder.feed(stream[start:stop])
    assert received == sent
    assert decoder.pending == 0
    decoder.end_of_stream()


@settings(deadline=None)
@given(messages, st.data())
def test_a_truncated_frame_is_refused_at_end_of_stream(
    message: ber.Message, data: st.DataObject
) -> None:
    frame = ber.encode(message)
    cut = data.draw(st.integers(1, len(frame) - 1))
    decoder = ber.FrameDecoder()
    assert decoder.feed(frame[:cut]) == []
    with pytest.raises(ber.BerError):
        decoder.end_of_stream()


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_random_octets_decode_or_raise_ber_error(octets: bytes) -> None:
    decoder = ber.FrameDecoder()
    try:
        decoder.feed(octets)
        decoder.end_of_stream()
    except ber.BerError:
        pass


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_random_octets_in_a_well_formed_frame_decode_or_raise_ber_error(body: bytes) -> None:
    try:
        message = ber.decode_message(body)
    except ber.BerError:
        return
    # Whatever decoded is a message the encoder itself accepts.
    ber.encode_message(message)


@settings(deadline=None)
@given(messages, st.data())
def test_a_corrupted_frame_decodes_or_raises_ber_error(
    message: ber.Message, data: st.DataObject
) -> None:
    frame = bytearray(ber.encode(message))
    at = data.draw(st.integers(4, len(frame) - 1))
    frame[at] ^= data.draw(st.integers(1, 255))
    try:
        ber.FrameDecoder().feed(bytes(frame))
    except ber.BerError:
        pass


def test_a_length_out_of_range_is_refused_at_once() -> None:
    with pytest.raises(ber.BerError, match="out of range"):
        ber.FrameDecoder().feed(b"\xff\xff\xff\xff")
    with pytest.raises(ber.BerError, match="out of range"):
        ber.FrameDecoder().feed(b"\x00\x00\x00\x00")


def test_octets_after_the_message_in_a_frame_are_refused() -> None:
    frame = ber.encode(ber.Delete(3, "8325550001"))
    padded = (len(frame) - 3).to_bytes(4, "big") + frame[4:] + b"\x00"
    with pytest.raises(ber.BerError, match="after the message"):
        ber.FrameDecoder().feed(padded)


def test_a_broken_stream_stays_refused() -> None:
    decoder = ber.FrameDecoder()
    with pytest.raises(ber.BerError):
        decoder.feed(b"\x00\x00\x00\x02\x05\x00")
    with pytest.raises(ber.BerError):
        decoder.feed(ber.encode(ber.Dump(1)))


@pytest.mark.parametrize(
    "message",
    [
        ber.Insert(1, Subscriber("832555000", "13803186457", "10")),
        ber.Insert(1, Subscriber("8325550001", "1380318645X", "10")),
        ber.Insert(1, Subscriber("8325550001", "13803186457", "PLAN*10")),
        ber.Insert(1, Subscriber("8325550001", "13803186457", "10", "barred")),
        ber.Modify(1, "8325550001", "1380318645"),
        ber.Suspend(1, "832555000X"),
        ber.Delete(-1, "8325550001"),
        ber.LogOn(1, "", b""),
        ber.Refused(1, 70000, "x"),
    ],
    ids=repr,
)
def test_values_outside_the_module_are_refused_at_encoding(message: ber.Message) -> None:
    with pytest.raises(ber.BerError):
        ber.encode(message)


def test_a_length_too_large_for_pyasn1_to_read_is_refused() -> None:
    # A LogOn whose invoke id claims 2**64 octets: pyasn1 raises OverflowError on it.
    with pytest.raises(ber.BerError):
        ber.decode_message(bytes.fromhex("610f0288cea00a8003636173d703736563"))


def test_a_value_outside_the_module_is_refused_at_decoding() -> None:
    # A well-formed Delete whose MID has nine digits.
    body = bytes.fromhex("610e0201038209") + b"832555000"
    with pytest.raises(ber.BerError):
        ber.decode_message(body)


# Every message is written and read by hand (ber_direct, ber_dump); pyasn1 is the reference.
# The direct path must write exactly pyasn1's octets for every message, read back everything
# pyasn1 writes, and never read octets otherwise than pyasn1 does.


def _pyasn1_reads(octets: bytes) -> ber.Message | None:
    try:
        return ber.decode_with_pyasn1(octets)
    except ber.BerError:
        return None


@settings(deadline=None, max_examples=400)
@given(messages)
def test_every_message_is_written_by_hand_as_pyasn1_writes_it(message: ber.Message) -> None:
    octets = ber_direct.encode(message)
    assert octets is not None  # no message of the module is left to pyasn1
    assert octets == ber.encode_with_pyasn1(message)
    assert ber.encode_message(message) == octets


@settings(deadline=None, max_examples=400)
@given(messages)
def test_everything_pyasn1_writes_is_read_by_hand(message: ber.Message) -> None:
    assert ber_direct.decode(ber.encode_with_pyasn1(message)) == message


@settings(deadline=None, max_examples=400)
@given(messages, st.data())
def test_octets_read_by_hand_are_read_as_pyasn1_reads_them(
    message: ber.Message, data: st.DataObject
) -> None:
    octets = bytearray(ber.encode_with_pyasn1(message))
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(octets) - 1))
        octets[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        del octets[data.draw(st.integers(0, len(octets) - 1)) :]
    by_hand = ber_direct.decode(bytes(octets))
    if by_hand is not None:  # None: not the layout read by hand, pyasn1 decides
        assert by_hand == _pyasn1_reads(bytes(octets))
    assert _outcome(ber.decode_message, bytes(octets)) == _outcome(
        ber.decode_with_pyasn1, bytes(octets)
    )


def _outcome(decode: object, octets: bytes) -> ber.Message | None:
    try:
        return decode(octets)  # type: ignore[operator, no-any-return]
    except ber.BerError:
        return None


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=120))
def test_random_octets_are_read_by_hand_only_as_pyasn1_reads_them(octets: bytes) -> None:
    by_hand = ber_direct.decode(octets)
    if by_hand is not None:
        assert by_hand == _pyasn1_reads(octets)


@pytest.mark.parametrize(
    "message",
    [
        ber.Insert(1, Subscriber("832555000", "13803186457", "10")),
        ber.Insert(1, Subscriber("8325550001", "13803186457", "10", "barred")),
        ber.Modify(1, "8325550001", None, "x" * 33),
        ber.Dump(2**31, None),
        ber.LogOn(1, "cas", b"s" * 65),
        ber.Response(1, "é", None),
        ber.Refused(1, 3, "x" * 201),
        ber.EndOfDump(1, -1),
    ],
    ids=repr,
)
def test_a_value_outside_the_module_is_left_to_pyasn1_to_refuse(message: ber.Message) -> None:
    assert ber_direct.encode(message) is None
    with pytest.raises(ber.BerError):
        ber.encode(message)


def test_forms_off_the_direct_path_still_decode_through_pyasn1() -> None:
    record = ber.DumpRecord(5, SUBSCRIBER)
    canonical = ber.encode_message(record)
    long_length = b"\x64\x81" + canonical[1:]  # the outer length in long form
    padded_id = canonical[:1] + bytes([canonical[1] + 1]) + b"\x02\x02\x00\x05" + canonical[5:]
    # An active line's state written out, which pyasn1 leaves out as the default.
    explicit = bytes.fromhex("6425020105a020") + canonical[7:] + b"\x83\x01\x00"
    for octets in (long_length, padded_id, explicit):
        assert ber_direct.decode(octets) is None
        assert ber.decode_message(octets) == record
    with pytest.raises(ber.BerError):
        ber.encode(ber.DumpRecord(5, Subscriber("8325550001", "13803186457", "10€")))


# A dump's records are written a page at a time and read a run at a time.

records = st.builds(
    lambda s: (s.mid, s.esn, s.features, s.state), subscribers
)  # (mid, esn, features, state)


@settings(deadline=None)
@given(invoke_ids, st.lists(records, max_size=20))
def test_a_page_of_records_is_written_as_pyasn1_writes_each(
    invoke_id: int, page: list[tuple[str, str, str, str]]
) -> None:
    one_by_one = b"".join(ber.encode(ber.DumpRecord(invoke_id, Subscriber(*r))) for r in page)
    assert ber_dump.dump_page(invoke_id, page) == one_by_one


@pytest.mark.parametrize(
    "page",
    [
        [("832555000", "13803186457", "10", "active")],
        [("8325550001", "13803186457", "10€", "active")],
        [("8325550001", "13803186457", "x" * 33, "active")],
        [("8325550001", "13803186457", "10", "barred")],
        [("8325550001", "1380318645٣", "10", "active")],
    ],
    ids=repr,
)
def test_a_page_with_a_value_outside_the_module_is_not_written_at_once(page: list) -> None:  # type: ignore[type-arg]
    assert ber_dump.dump_page(7, page) is None


@st.composite
def dump_streams(draw: st.DrawFn) -> tuple[int, bytes, list[ber.Message]]:
    """A dump as it comes: records of one invoke id, with other answers and other layouts."""
    invoke_id = draw(invoke_ids)
    sent: list[ber.Message] = []
    octets = b""
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["record"] * 6 + ["late", "long form", "other"]))
        if kind == "record":
            message: ber.Message = ber.DumpRecord(invoke_id, draw(subscribers))
            frame = ber.encode(message)
        elif kind == "long form":  # the same record, its outer length written long
            message = ber.DumpRecord(invoke_id, draw(subscribers))
            body = ber.encode_message(message)
            frame = (len(body) + 1).to_bytes(4, "big") + body[:1] + b"\x81" + body[1:]
        elif kind == "late":
            message = ber.DumpRecord((invoke_id + 1) % 2**31, draw(subscribers))
            frame = ber.encode(message)
        else:
            message = draw(messages)
            frame = ber.encode(message)
        sent.append(message)
        octets += frame
    sent.append(ber.EndOfDump(invoke_id, len(sent)))
    return invoke_id, octets + ber.encode(sent[-1]), sent


@settings(deadline=None, max_examples=300)
@given(dump_streams(), st.data())
def test_a_dump_read_a_run_at_a_time_reads_as_message_by_message(
    stream: tuple[int, bytes, list[ber.Message]], data: st.DataObject
) -> None:
    invoke_id, octets, sent = stream
    cuts = sorted(data.draw(st.lists(st.integers(0, len(octets)), max_size=8)))
    decoder = ber.FrameDecoder()
    taken: list[ber.Message] = []
    for start, stop in zip([0, *cuts], [*cuts, len(octets)], strict=True):
        for item in decoder.feed_dump(octets[start:stop], invoke_id):
            if isinstance(item, list):
                assert item  # a run read at once has records
                taken += [ber.DumpRecord(invoke_id, Subscriber(*r)) for r in item]
            else:
                taken.append(item)
    assert taken == sent
    decoder.end_of_stream()


def test_a_dump_in_another_layout_is_read_record_by_record() -> None:
    records = [
        ber.DumpRecord(9, Subscriber(f"83255{n:05d}", f"138031{n:05d}", "10")) for n in range(500)
    ]
    frames = b""
    for record in records:
        body = ber.encode_message(record)  # the same, its outer length written long
        frames += (len(body) + 1).to_bytes(4, "big") + body[:1] + b"\x81" + body[1:]
    assert not ber_dump.at_record(frames, 0)
    assert ber.FrameDecoder().feed_dump(frames, 9) == records


def test_a_long_dump_comes_in_a_few_runs() -> None:
    page = [(f"83255{n:05d}", f"138031{n:05d}", "10", "active") for n in range(2000)]
    page[7] = (*page[7][:3], "suspended")
    octets = ber_dump.dump_page(9, page)
    assert octets is not None
    decoder = ber.FrameDecoder()
    runs = [decoder.feed_dump(octets[i : i + 65536], 9) for i in range(0, len(octets), 65536)]
    assert [len(r) for r in runs] == [1, 1]
    assert [record for run in runs for record in run[0]] == page  # type: ignore[union-attr]


def test_an_independent_asn1_compiler_reads_the_module_and_agrees_octet_for_octet() -> None:
    asn1tools = pytest.importorskip("asn1tools")
    module = Path(__file__).resolve().parents[2] / "data" / "asn1" / "cas-switch.asn"
    spec = asn1tools.compile_files(str(module), "ber")
    for message, octets in GOLDEN:
        body = bytes.fromhex(octets)[4:]
        _, value = spec.decode("Message", body)
        assert value["invokeId"] == message.invoke_id
        assert spec.encode("Message", spec.decode("Message", body)) == body
