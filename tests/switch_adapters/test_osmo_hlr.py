"""The osmo-hlr adapter against the real daemon, its wire codec, and its subscriber mapping."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time
import types
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switch_adapters import osmo_hlr_daemon
from switch_adapters.osmo_ctrl import (
    CtrlSyntaxError,
    ctrl_text,
    encode_ctrl,
    parse_ctrl,
    strip_telnet,
    take_frame,
)
from switch_adapters.osmo_hlr import DEFAULT_COMMANDS, OsmoHlrSession
from switch_adapters.osmo_hlr_daemon import OsmoHlrDaemon, OsmoHlrMissing
from switch_adapters.osmo_subscriber import (
    esn_from_imei,
    imei_from_esn,
    imsi_for,
    luhn_digit,
    plmn_from_code,
)
from switch_adapters.port import (
    CommandTemplate,
    Garbled,
    LineDown,
    Subscriber,
    SwitchDenied,
    SwitchTimeout,
)

if __package__:
    from . import osmo_hlr_fixture as fixture
else:
    import osmo_hlr_fixture as fixture

ESN = "13803186457"
IMEI = "352099001761481"  # the check digit is the one osmo-hlr itself shows


@pytest.fixture
def hlr(tmp_path: Path) -> Iterator[OsmoHlrDaemon]:
    yield from fixture.running_osmo_hlr(tmp_path / "osmo-hlr")


@pytest.fixture
def session(hlr: OsmoHlrDaemon) -> Iterator[OsmoHlrSession]:
    with OsmoHlrSession(fixture.hou4(hlr)) as opened:
        yield opened


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


# -- against the real HLR ------------------------------------------------------------------


def test_insert_keeps_the_mid_as_msisdn_a_min_based_imsi_and_the_esn(session, hlr):
    session.insert(Subscriber("3465550001", ESN, "10"))

    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]
    assert session.query("3465550001") == Subscriber("3465550001", ESN, "")


def test_a_15_digit_imei_is_kept_without_its_check_digit_and_read_back_with_it(session, hlr):
    session.insert(Subscriber("3465550002", IMEI))

    assert fixture.held(hlr) == [("310003465550002", "3465550002", IMEI[:14])]
    assert session.query("3465550002") == Subscriber("3465550002", IMEI, "")


def test_query_of_an_unknown_mid_is_none(session):
    assert session.query("3465559999") is None


def test_a_duplicate_mid_is_denied_with_the_hlrs_reason_and_changes_nothing(session, hlr):
    session.insert(Subscriber("3465550001", ESN))

    with pytest.raises(SwitchDenied) as denied:
        session.insert(Subscriber("3465550001", "13803186458"))

    assert denied.value.reason == "Subscriber already exists."
    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]
    assert session.query("3465550001") == Subscriber("3465550001", ESN)


def test_a_mid_held_under_another_imsi_is_denied_and_the_new_imsi_removed(session, hlr):
    session.insert(Subscriber("3465550001", ESN))
    with OsmoHlrSession(fixture.hou4(hlr, name="HOU5", code="311-48")) as other:
        with pytest.raises(SwitchDenied) as denied:
            other.insert(Subscriber("3465550001", "13803186458"))

    assert denied.value.code.endswith(".msisdn")
    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]


def test_an_insert_cut_short_is_completed_by_the_next_insert_not_duplicated(session, hlr):
    assert fixture.ctrl_set(hlr, "subscriber.create", "310003465550003").startswith("SET_REPLY")
    assert session.query("3465550003") is None  # without MSISDN it is not there by MID

    session.insert(Subscriber("3465550003", ESN))

    assert fixture.held(hlr) == [("310003465550003", "3465550003", "000" + ESN)]


def test_delete_removes_the_subscriber(session, hlr):
    session.insert(Subscriber("3465550001", ESN))
    session.insert(Subscriber("3465550002", IMEI))

    session.delete("3465550001")

    assert fixture.held(hlr) == [("310003465550002", "3465550002", IMEI[:14])]
    assert session.query("3465550001") is None


def test_deleting_a_mid_the_hlr_does_not_hold_is_already_done(session, hlr):
    session.insert(Subscriber("3465550001", ESN))

    session.delete("3465559999")

    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]


def test_inserting_what_the_hlr_already_holds_is_already_done(session, hlr):
    session.insert(Subscriber("3465550001", ESN, "10"))

    session.insert(Subscriber("3465550001", ESN, "20"))  # the HLR keeps no rate plan

    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]


def test_a_modify_gives_the_subscriber_a_new_handset(session, hlr):
    session.insert(Subscriber("3465550001", ESN, "10"))

    session.modify("3465550001", esn="13803186458", features="20")

    assert fixture.held(hlr) == [("310003465550001", "3465550001", "00013803186458")]
    assert session.query("3465550001") == Subscriber("3465550001", "13803186458")
    session.modify("3465550001", esn=IMEI)
    assert session.query("3465550001") == Subscriber("3465550001", IMEI)


def test_a_modify_of_the_features_alone_changes_nothing_and_sends_nothing(session, hlr):
    session.insert(Subscriber("3465550001", ESN, "10"))
    hlr.stop()  # nothing is sent: a stopped HLR does not notice

    session.modify("3465550001", features="20")
    session.modify("3465559999", features="20")

    with pytest.raises(ValueError):
        session.modify("3465550001")  # nothing at all to change


def test_a_modify_of_a_mid_the_hlr_does_not_hold_is_denied_with_its_reason(session, hlr):
    with pytest.raises(SwitchDenied) as denied:
        session.modify("3465559999", esn=ESN)

    assert denied.value.reason == "No subscriber for msisdn = '3465559999'"
    assert fixture.held(hlr) == []


def test_suspend_turns_off_circuit_and_packet_access_and_restore_turns_them_on(session, hlr):
    session.insert(Subscriber("3465550001", ESN))
    session.insert(Subscriber("3465550002", IMEI))

    session.suspend("3465550001")

    assert fixture.access(hlr) == [("3465550001", 0, 0), ("3465550002", 1, 1)]
    assert session.query("3465550001") == Subscriber("3465550001", ESN, "", "suspended")
    assert list(session.dump()) == [
        Subscriber("3465550001", ESN, "", "suspended"),
        Subscriber("3465550002", IMEI),
    ]
    session.suspend("3465550001")  # the HLR takes it again; it is what was wanted
    session.restore("3465550001")
    session.restore("3465550001")
    assert fixture.access(hlr) == [("3465550001", 1, 1), ("3465550002", 1, 1)]
    assert session.query("3465550001") == Subscriber("3465550001", ESN)


def test_a_line_with_one_kind_of_access_left_is_active(session, hlr):
    session.insert(Subscriber("3465550001", ESN))
    fixture.ctrl_set(hlr, "subscriber.by-msisdn-3465550001.ps-enabled", "0")

    assert session.query("3465550001") == Subscriber("3465550001", ESN)
    assert list(session.dump()) == [Subscriber("3465550001", ESN)]


def test_suspending_or_restoring_a_mid_the_hlr_does_not_hold_is_denied(session, hlr):
    for change in (session.suspend, session.restore):
        with pytest.raises(SwitchDenied) as denied:
            change("3465559999")
        assert denied.value.reason == "No such subscriber."


def test_a_suspend_left_unanswered_by_a_silent_hlr_is_done_by_the_retry(hlr):
    with OsmoHlrSession(fixture.hou4(hlr), deadline=1.0) as session:
        session.insert(Subscriber("3465550001", ESN))
        os.kill(hlr.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(SwitchTimeout):
                session.suspend("3465550001")
            assert time.monotonic() - started < 5.0
        finally:
            os.kill(hlr.process.pid, signal.SIGCONT)

        session.suspend("3465550001")

        assert session.query("3465550001") == Subscriber("3465550001", ESN, "", "suspended")
    assert fixture.access(hlr) == [("3465550001", 0, 0)]


def test_a_switch_row_written_before_these_commands_gets_the_defaults(hlr):
    row = {name: DEFAULT_COMMANDS[name] for name in ("insert", "delete", "query", "dump")}
    with OsmoHlrSession(fixture.hou4(hlr, commands=row)) as session:
        session.insert(Subscriber("3465550001", ESN))
        session.modify("3465550001", esn="13803186458")
        session.suspend("3465550001")
        assert session.query("3465550001") == Subscriber(
            "3465550001", "13803186458", "", "suspended"
        )
        session.restore("3465550001")
    assert fixture.access(hlr) == [("3465550001", 1, 1)]


def test_keepalive_proves_the_line_and_moves_to_the_backup_when_the_primary_goes(tmp_path, hlr):
    with osmo_hlr_daemon.require_osmo_hlr(tmp_path / "backup") as backup:
        row = fixture.hou4(hlr, backup_url=backup.ctrl_url)
        with OsmoHlrSession(row) as session:
            session.keepalive()
            assert session.url == hlr.ctrl_url
            hlr.stop()

            session.keepalive()

            assert session.url == backup.ctrl_url
            session.insert(Subscriber("3465550001", ESN))
        assert fixture.held(backup) == [("310003465550001", "3465550001", "000" + ESN)]


def test_dump_streams_every_numbered_subscriber_ordered_by_mid(session, hlr):
    for mid, esn in [("3465550007", ESN), ("3465550002", IMEI), ("3465550005", "")]:
        session.insert(Subscriber(mid, esn, "30"))
    with OsmoHlrSession(fixture.hou4(hlr, name="HOU5", code="31148")) as other:
        other.insert(Subscriber("2125550001", "13803186459"))
    fixture.ctrl_set(hlr, "subscriber.create", "310003465550009")  # no MSISDN: not listed

    dump = session.dump()

    assert isinstance(dump, types.GeneratorType)
    assert list(dump) == [
        Subscriber("2125550001", "13803186459"),
        Subscriber("3465550002", IMEI),
        Subscriber("3465550005", ""),
        Subscriber("3465550007", ESN),
    ]


def test_dump_of_a_large_hlr_matches_its_database_row_for_row(session, hlr):
    rows = [(f"31000346{n:07d}", f"346{n:07d}", f"000{n:011d}") for n in range(0, 6000, 3)]
    with sqlite3.connect(hlr.database) as db:  # loaded behind the HLR's back, as a migration would
        db.executemany("INSERT INTO subscriber (imsi, msisdn, imei) VALUES (?, ?, ?)", rows)

    dumped = [(s.mid, s.esn) for s in session.dump()]

    assert dumped == sorted((msisdn, imei[3:]) for _, msisdn, imei in rows)


def test_a_dump_left_half_read_leaves_the_session_usable(session):
    for n in range(3):
        session.insert(Subscriber(f"346555000{n}", ESN))

    dump = session.dump()
    assert next(dump).mid == "3465550000"
    dump.close()

    assert session.query("3465550002") == Subscriber("3465550002", ESN)
    assert [s.mid for s in session.dump()] == ["3465550000", "3465550001", "3465550002"]


def test_the_switch_rows_expected_pattern_is_checked(hlr):
    query = CommandTemplate(DEFAULT_COMMANDS["query"].format, r"^never$")
    with OsmoHlrSession(fixture.hou4(hlr, commands={"query": query})) as session:
        session.insert(Subscriber("3465550001", ESN))
        with pytest.raises(Garbled):
            session.query("3465550001")


def test_the_backup_line_serves_when_the_primary_refuses(hlr, refusing_port):
    row = fixture.hou4(
        hlr, primary_url=f"socket://127.0.0.1:{refusing_port}", backup_url=hlr.ctrl_url
    )
    with OsmoHlrSession(row) as session:
        session.insert(Subscriber("3465550001", ESN))
        assert session.query("3465550001") == Subscriber("3465550001", ESN)
    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]


def test_no_line_at_all_is_line_down(refusing_port):
    row = fixture.SwitchDefinition(
        "HOU4", "osmo-hlr", "310-00", f"socket://127.0.0.1:{refusing_port}"
    )
    with pytest.raises(LineDown):
        OsmoHlrSession(row)


def test_a_silent_hlr_times_out_at_the_deadline_and_a_retry_provisions_once(hlr):
    session = OsmoHlrSession(fixture.hou4(hlr), deadline=1.0)
    os.kill(hlr.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(Subscriber("3465550001", ESN))
        assert 0.9 < time.monotonic() - started < 5.0
    finally:
        os.kill(hlr.process.pid, signal.SIGCONT)

    # what the call flow does next: ask the switch, and insert again only if it is not there
    if session.query("3465550001") is None:
        session.insert(Subscriber("3465550001", ESN))

    assert session.query("3465550001") == Subscriber("3465550001", ESN)
    assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]
    session.close()


def test_an_hlr_that_went_away_is_line_down_and_its_return_is_picked_up(session, hlr):
    session.insert(Subscriber("3465550001", ESN))
    hlr.stop()

    with pytest.raises(LineDown):
        session.query("3465550001")

    hlr.start()
    assert session.query("3465550001") == Subscriber("3465550001", ESN)


@pytest.mark.parametrize(
    "answer",
    [
        b"\x00\x05\x12hello",  # not IPA CTRL at all
        b"\x00\x0a\xee\x00HELLO 1 x",  # IPA CTRL framing around words that are not CTRL
        "GET_REPLY {id} other.variable y",  # the answer to another command
        "GET_REPLY {id}",  # an answer without its variable
    ],
)
def test_garbage_from_the_line_is_garbled(answer):
    peers: list[socket.socket] = []

    def answer_anything(server: socket.socket) -> None:
        with suppress(OSError):  # until the test closes the server
            while True:
                peer, _ = server.accept()
                peers.append(peer)
                request = peer.recv(4096)
                if isinstance(answer, str):  # framed here, apart from the adapter's codec
                    text = answer.format(id=request[4:].split(b" ")[1].decode()).encode()
                    peer.sendall((len(text) + 1).to_bytes(2, "big") + b"\xee\x00" + text)
                else:
                    peer.sendall(answer)

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        threading.Thread(target=answer_anything, args=(server,), daemon=True).start()
        row = fixture.SwitchDefinition(
            "HOU4", "osmo-hlr", "310-00", f"socket://127.0.0.1:{server.getsockname()[1]}"
        )
        started = time.monotonic()
        try:
            with OsmoHlrSession(row, deadline=10.0) as session, pytest.raises(Garbled):
                session.query("3465550001")
        finally:
            for peer in peers:
                peer.close()
        assert time.monotonic() - started < 5.0  # told apart at once, not waited out


def test_the_switch_secret_opens_a_password_protected_vty(tmp_path):
    if osmo_hlr_daemon.osmo_hlr_binary() is None:
        pytest.skip(fixture.SKIP_REASON)
    with osmo_hlr_daemon.require_osmo_hlr(tmp_path, enable_password="hou4-secret") as hlr:
        with OsmoHlrSession(fixture.hou4(hlr, logon_secret="hou4-secret")) as session:
            session.insert(Subscriber("3465550001", ESN))
        with OsmoHlrSession(fixture.hou4(hlr, logon_secret="wrong")) as session:
            with pytest.raises(SwitchDenied):
                session.insert(Subscriber("3465550002", ESN))
        assert fixture.held(hlr) == [("310003465550001", "3465550001", "000" + ESN)]


# -- the daemon helper ---------------------------------------------------------------------


def test_without_the_program_the_helper_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    assert osmo_hlr_daemon.start_osmo_hlr(tmp_path) is None
    with pytest.raises(OsmoHlrMissing, match="apt-get install osmo-hlr"):
        osmo_hlr_daemon.require_osmo_hlr(tmp_path)


def test_two_hlrs_run_side_by_side(tmp_path, hlr):
    with osmo_hlr_daemon.require_osmo_hlr(tmp_path / "second") as second:
        assert second.host != hlr.host
        with OsmoHlrSession(fixture.hou4(second)) as session:
            session.insert(Subscriber("3465550001", ESN))
        assert fixture.held(second) == [("310003465550001", "3465550001", "000" + ESN)]
    assert fixture.held(hlr) == []


# -- the mapping ---------------------------------------------------------------------------


def test_mcc_and_mnc_come_from_the_switch_code():
    assert plmn_from_code("310-00") == ("310", "00")
    assert plmn_from_code("31148") == ("311", "48")
    assert plmn_from_code("HOU4") == ("310", "00")
    assert imsi_for("3465550001", ("311", "48")) == "311483465550001"
    with pytest.raises(ValueError):
        plmn_from_code("310-410")  # a 3-digit MNC leaves no room for a 10-digit MIN
    with pytest.raises(ValueError):
        imsi_for("346555001", ("310", "00"))


def test_handset_identities_map_onto_the_imei_column_and_back():
    assert luhn_digit("49015420323751") == "8"
    assert imei_from_esn(ESN) == "00013803186457"
    assert esn_from_imei("000138031864570") == ESN  # as the VTY shows it, check digit added
    assert imei_from_esn(IMEI) == IMEI[:14]
    assert esn_from_imei(IMEI[:14]) == IMEI
    assert imei_from_esn("") == "" and esn_from_imei("-------------") == ""
    for bad in ("1380318645", "352099001761482", "35209900176148", "A3803186457"):
        with pytest.raises(ValueError):
            imei_from_esn(bad)


@given(st.from_regex(r"\d{11}", fullmatch=True))
def test_every_esn_reads_back_as_itself(esn):
    imei = imei_from_esn(esn)
    assert len(imei) == 14 and esn_from_imei(imei + luhn_digit(imei)) == esn


# -- the CTRL codec ------------------------------------------------------------------------


def test_a_ctrl_command_is_framed_as_osmocom_expects():
    assert encode_ctrl("GET 1 subscriber.by-msisdn-3465550001.info") == (
        b"\x00\x2b\xee\x00GET 1 subscriber.by-msisdn-3465550001.info"
    )


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=300))
def test_what_is_framed_unframes_to_itself(text):
    buffer = bytearray(encode_ctrl(text) + b"\x00\x01")
    protocol, payload = take_frame(buffer)
    assert protocol == 0xEE and ctrl_text(payload) == text
    assert buffer == b"\x00\x01" and take_frame(buffer) is None  # a frame not yet complete


@given(
    st.sampled_from(["GET_REPLY", "SET_REPLY"]),
    st.integers(0, 2**31),
    st.from_regex(r"[a-z][a-z0-9.-]{0,40}", fullmatch=True),
    st.text(alphabet=st.characters(max_codepoint=127), max_size=80),
)
def test_a_reply_parses_into_its_parts(verb, ident, var, value):
    reply = parse_ctrl(f"{verb} {ident} {var} {value}")
    assert (reply.verb, reply.ident, reply.var, reply.value) == (verb, str(ident), var, value)


@given(st.binary(max_size=200))
def test_random_bytes_give_a_typed_error_or_wait_for_more_never_a_crash(data):
    buffer = bytearray(data)
    try:
        while (frame := take_frame(buffer)) is not None:
            if frame[0] == 0xEE:
                parse_ctrl(ctrl_text(frame[1]))
    except CtrlSyntaxError:
        pass


@given(st.binary(max_size=120), st.binary(max_size=120))
def test_telnet_is_stripped_the_same_however_the_bytes_are_cut(first, second):
    head, tail = strip_telnet(first)
    rest, left = strip_telnet(tail + second)
    assert (head + rest, left) == strip_telnet(first + second)
