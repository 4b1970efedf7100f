"""Every dialect's session against the simulator process: commands, faults, retries, failover.

Runs for each dialect whose adapter and simulator side are both present, over TCP and (where
it matters) over a pty. Faults use the dialect's own denial code, so these tests hold for all.
The changes after an insertion (modify, suspend, restore) go through the same faults and the
same query-before-retry rule as the insertion.
"""

from __future__ import annotations

import time

import pytest

from switch_adapters import open_session
from switch_adapters.port import (
    SUSPENDED,
    CommandTemplate,
    Garbled,
    LineDown,
    Subscriber,
    SwitchDenied,
    SwitchSession,
    SwitchTimeout,
)
from switch_adapters.simulator.store import Store

DEADLINE = 1.0
SLACK = 0.5  # scheduling on a busy machine; the deadline itself is what is asserted


def sub(n: int, features: str = "10", state: str = "active") -> Subscriber:
    return Subscriber(f"713555{n:04d}", f"138031{n:05d}", features, state)


@pytest.fixture(params=["tcp", "pty"])
def line_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_insert_query_delete_dump(start, dialect, line_kind) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect, pty=line_kind == "pty")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        for n in (7, 3, 5):
            session.insert(sub(n, features=str(n * 10)))
        assert session.query(sub(3).mid) == sub(3, "30")
        assert session.query(sub(4).mid) is None
        session.delete(sub(7).mid)
        assert list(session.dump()) == [sub(3, "30"), sub(5, "50")]
    assert sim.subscribers() == [sub(3, "30"), sub(5, "50")]


def test_duplicate_mid_and_active_esn_are_refused(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        session.insert(sub(1))
        with pytest.raises(SwitchDenied):
            session.insert(Subscriber(sub(1).mid, sub(2).esn, "10"))
        with pytest.raises(SwitchDenied):
            session.insert(Subscriber(sub(2).mid, sub(1).esn, "10"))
        session.insert(sub(1))  # the very same subscriber again: already done, not refused
    assert sim.subscribers() == [sub(1)]


def test_deleting_an_absent_mid_leaves_nothing_to_do(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        session.delete(sub(9).mid)
        assert session.query(sub(9).mid) is None


def test_denied_commands_change_nothing(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        assert sim.control("deny 1").startswith("ok")
        with pytest.raises(SwitchDenied) as denied:
            session.insert(sub(1))
        assert denied.value.code
        session.insert(sub(2))
    assert sim.subscribers() == [sub(2)]


def test_slow_answer_times_out_within_the_deadline(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("delay 30")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        sim.control("clear")
        # The switch did it, only late: the retry finds it there and does not do it again.
        session.insert(sub(1))
    assert sim.subscribers() == [sub(1)]
    assert sim.stats()["insert"] == 1


def test_insert_retry_queries_first_after_a_dropped_line(start, dialect, line_kind) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect, pty=line_kind == "pty")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE * 2) as session:
        sim.control("drop 1")
        session.insert(sub(1))
        assert session.query(sub(1).mid) == sub(1)
    stats = sim.stats()
    assert stats["dropped"] == 1
    assert stats["insert"] == 1  # done once, found by the query, never sent again
    assert sim.subscribers() == [sub(1)]


def test_insert_retry_within_the_deadline_after_a_late_answer(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=2.0) as session:
        sim.control("delay 1.3 1")  # only the insert's answer is late, past half the deadline
        began = time.monotonic()
        session.insert(sub(1))
        assert time.monotonic() - began < 2.0 + SLACK
    assert sim.stats()["insert"] == 1
    assert sim.subscribers() == [sub(1)]


def test_a_new_session_retrying_an_unanswered_insert_does_not_double_it(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    definition = sim.definition("HOU1")
    with open_session(definition, deadline=DEADLINE) as first:
        sim.control("delay 30")
        with pytest.raises(SwitchTimeout):
            first.insert(sub(1))
        sim.control("clear")
    with open_session(definition, deadline=DEADLINE) as second:
        second.insert(sub(1))
    assert sim.subscribers() == [sub(1)]


def test_garbage_is_garbled_and_nothing_is_done(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("garbage 5")
        with pytest.raises(Garbled):
            session.insert(sub(1))
        sim.control("clear")
        assert session.query(sub(1).mid) is None
    assert sim.subscribers() == []


def test_garbage_once_is_survived(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("garbage 1")
        session.insert(sub(1))
    assert sim.subscribers() == [sub(1)]


def test_silent_switch_times_out_then_answers_again(start, dialect, line_kind) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect, pty=line_kind == "pty")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("silent")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            session.insert(sub(1))
        assert time.monotonic() - began < DEADLINE + SLACK
        assert sim.control("clear").startswith("ok")
        session.insert(sub(2))
    assert sim.subscribers() == [sub(2)]


def test_silence_for_a_while_ends_by_itself(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=2.0) as session:
        sim.control("silent 0.3")
        session.insert(sub(1))  # the first attempt goes unanswered, the second is heard
    assert sim.subscribers() == [sub(1)]


def test_failover_when_the_primary_cannot_be_opened(start, dialect, refused_url) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    definition = sim.definition("HOU1", primary_url=refused_url, backup_url=sim.url)
    with open_session(definition, deadline=DEADLINE) as session:
        assert session.url == sim.url
        session.insert(sub(1))
    assert sim.subscribers() == [sub(1)]


def test_failover_when_the_primary_does_not_answer(start, dialect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Two lines into one switch: two simulator processes on the same database file.
    store = tmp_path / "shared.db"
    primary = start(dialect, store=store, faults=["silent"])
    backup = start(dialect, store=store)
    definition = primary.definition("HOU1", backup_url=backup.url)
    began = time.monotonic()
    with open_session(definition, deadline=DEADLINE) as session:
        assert time.monotonic() - began < DEADLINE + SLACK
        assert session.url == backup.url
        session.insert(sub(1))
    assert backup.subscribers() == [sub(1)]


def test_no_line_at_all_is_line_down(dialect, refused_url) -> None:  # type: ignore[no-untyped-def]
    from switch_adapters.port import SwitchDefinition

    definition = SwitchDefinition("HOU1", dialect, "HOU1", refused_url, refused_url)
    with pytest.raises(LineDown):
        open_session(definition, deadline=DEADLINE)


def test_dump_streams_a_big_store_in_order(start, dialect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.db"
    with Store(path) as store:
        store.load(sub(n) for n in range(2500, 0, -1))
    sim = start(dialect, store=path, extra_args=["--part-size", "37"])
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        dumped = list(session.dump())
        assert dumped == [sub(n) for n in range(1, 2501)]
        records = [record for batch in session.dump_records() for record in batch]
        assert records == [(s.mid, s.esn, s.features, s.state) for s in dumped]
        assert session.query(sub(17).mid) == sub(17)  # the line is fine after a whole dump


def test_dump_cut_off_raises_and_the_session_recovers(start, dialect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.db"
    with Store(path) as store:
        store.load(sub(n) for n in range(1, 301))
    sim = start(dialect, store=path, extra_args=["--part-size", "20"])
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("drop 1")
        with pytest.raises((LineDown, SwitchTimeout)):
            list(session.dump())
        assert len(list(session.dump())) == 300


def test_abandoned_dump_does_not_confuse_the_next_command(start, dialect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.db"
    with Store(path) as store:
        store.load(sub(n) for n in range(1, 501))
    sim = start(dialect, store=path, extra_args=["--part-size", "10"])
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        stream = session.dump()
        assert next(stream) == sub(1)
        with pytest.raises(RuntimeError):
            session.query(sub(2).mid)
        stream.close()
        assert session.query(sub(2).mid) == sub(2)


# pyserial's RFC 2217 client still names its reader thread the old way.
@pytest.mark.filterwarnings("ignore:set.*is deprecated:DeprecationWarning")
def test_through_a_terminal_server(start, dialect) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect, rfc2217=True)
    assert sim.url.startswith("rfc2217://")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE * 3) as session:
        for n in range(1, 40):
            session.insert(sub(n))
        sim.control("drop 1")
        session.insert(sub(40))
        assert [s.mid for s in session.dump()] == [sub(n).mid for n in range(1, 41)]
    assert sim.stats()["insert"] == 40
    assert len(sim.subscribers()) == 40


# -- the rest of a line's life: modify, suspend, restore ---------------------------------------

NEW_ESN = "13899900001"


def test_a_line_is_modified_suspended_restored_and_disconnected(start, dialect, line_kind) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect, pty=line_kind == "pty")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        for n in (1, 2, 3):
            session.insert(sub(n))
        session.modify(sub(1).mid, esn=NEW_ESN)  # a handset swap keeps the plan
        session.modify(sub(2).mid, features="30")  # a plan change keeps the handset
        session.modify(sub(3).mid, esn=sub(1).esn, features="")  # the old handset is free
        session.suspend(sub(2).mid)
        assert session.query(sub(2).mid) == sub(2, "30", SUSPENDED)
        assert list(session.dump()) == [
            Subscriber(sub(1).mid, NEW_ESN, "10"),
            sub(2, "30", SUSPENDED),
            Subscriber(sub(3).mid, sub(1).esn, ""),
        ]
        assert [batch for batch in session.dump_records()] == [
            [
                (sub(1).mid, NEW_ESN, "10", "active"),
                (sub(2).mid, sub(2).esn, "30", "suspended"),
                (sub(3).mid, sub(1).esn, "", "active"),
            ]
        ]
        session.restore(sub(2).mid)
        assert session.query(sub(2).mid) == sub(2, "30")
        session.suspend(sub(3).mid)
        session.delete(sub(3).mid)  # a suspended line is disconnected like any other
    assert sim.subscribers() == [Subscriber(sub(1).mid, NEW_ESN, "10"), sub(2, "30")]


def test_changes_to_what_the_switch_does_not_hold_or_would_clash_are_refused(
    start, dialect
) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        session.insert(sub(1))
        session.insert(sub(2))
        for change in (
            lambda: session.modify(sub(9).mid, esn=NEW_ESN),
            lambda: session.modify(sub(9).mid, features="20"),
            lambda: session.suspend(sub(9).mid),
            lambda: session.restore(sub(9).mid),
            lambda: session.modify(sub(2).mid, esn=sub(1).esn),  # another MID's handset
        ):
            with pytest.raises(SwitchDenied):
                change()
        with pytest.raises(ValueError):
            session.modify(sub(1).mid)  # nothing to change: nothing is sent
    assert sim.subscribers() == [sub(1), sub(2)]
    assert sim.stats()["modify"] == 3


def test_a_state_change_that_changes_nothing_is_refused_by_the_switch_and_done(
    start, dialect
) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        session.insert(sub(1))
        session.restore(sub(1).mid)  # refused as not suspended: the switch holds it active
        session.suspend(sub(1).mid)
        session.suspend(sub(1).mid)  # refused as already suspended: what was wanted
        session.modify(sub(1).mid, esn=sub(1).esn, features="10")  # the same values again
    assert sim.subscribers() == [sub(1, state=SUSPENDED)]
    stats = sim.stats()
    assert (stats["suspend"], stats["restore"], stats["modify"]) == (2, 1, 1)


def _modify(session: SwitchSession) -> None:
    session.modify(sub(1).mid, esn=NEW_ESN, features="20")


def _suspend(session: SwitchSession) -> None:
    session.suspend(sub(1).mid)


def _restore(session: SwitchSession) -> None:
    session.restore(sub(1).mid)


# Each change: how to make it, the state it starts from, and what the switch holds after it.
CHANGES = {
    "modify": (_modify, sub(1), Subscriber(sub(1).mid, NEW_ESN, "20")),
    "suspend": (_suspend, sub(1), sub(1, state=SUSPENDED)),
    "restore": (_restore, sub(1, state=SUSPENDED), sub(1)),
}


@pytest.fixture(params=sorted(CHANGES))
def change(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _holding(start, dialect, held: Subscriber, **kwargs):  # type: ignore[no-untyped-def]
    sim = start(dialect, **kwargs)
    with Store(sim.store_path) as store:
        store.insert(held)
    return sim


def test_a_denied_change_changes_nothing(start, dialect, change) -> None:  # type: ignore[no-untyped-def]
    make, before, _ = CHANGES[change]
    sim = _holding(start, dialect, before)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("deny 1")
        with pytest.raises(SwitchDenied) as denied:
            make(session)
        assert denied.value.code
    assert sim.subscribers() == [before]


def test_a_change_answered_late_is_queried_before_it_is_sent_again(start, dialect, change) -> None:  # type: ignore[no-untyped-def]
    make, before, after = CHANGES[change]
    sim = _holding(start, dialect, before)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("delay 30")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            make(session)
        assert time.monotonic() - began < DEADLINE + SLACK
        sim.control("clear")
        queries = sim.stats().get("query", 0)
        make(session)  # the switch did it, only late: the retry finds it done
        stats = sim.stats()
    assert stats[change] == 1
    assert stats["query"] == queries + 1
    assert sim.subscribers() == [after]


def test_a_change_whose_line_dropped_is_done_once(start, dialect, change, line_kind) -> None:  # type: ignore[no-untyped-def]
    make, before, after = CHANGES[change]
    sim = _holding(start, dialect, before, pty=line_kind == "pty")
    with open_session(sim.definition("HOU1"), deadline=DEADLINE * 2) as session:
        sim.control("drop 1")
        make(session)
        assert session.query(sub(1).mid) == after
    stats = sim.stats()
    assert (stats["dropped"], stats[change]) == (1, 1)
    assert sim.subscribers() == [after]


def test_a_change_left_unanswered_by_one_session_is_done_by_the_next(
    start, dialect, change
) -> None:  # type: ignore[no-untyped-def]
    make, before, after = CHANGES[change]
    sim = _holding(start, dialect, before)
    definition = sim.definition("HOU1")
    with open_session(definition, deadline=DEADLINE) as first:
        sim.control("delay 30")
        with pytest.raises(SwitchTimeout):
            make(first)
        sim.control("clear")
    with open_session(definition, deadline=DEADLINE) as second:
        make(second)  # sent again; refused or not, the switch holds what was wanted
    assert sim.subscribers() == [after]


def test_a_change_answered_with_garbage_is_garbled_and_not_done(start, dialect, change) -> None:  # type: ignore[no-untyped-def]
    make, before, _ = CHANGES[change]
    sim = _holding(start, dialect, before)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("garbage 5")
        with pytest.raises(Garbled):
            make(session)
        sim.control("clear")
        assert session.query(sub(1).mid) == before
    assert sim.subscribers() == [before]


def test_a_change_sent_to_a_silent_switch_times_out_and_is_not_done(start, dialect, change) -> None:  # type: ignore[no-untyped-def]
    make, before, after = CHANGES[change]
    sim = _holding(start, dialect, before)
    with open_session(sim.definition("HOU1"), deadline=DEADLINE) as session:
        sim.control("silent")
        began = time.monotonic()
        with pytest.raises(SwitchTimeout):
            make(session)
        assert time.monotonic() - began < DEADLINE + SLACK
        sim.control("clear")
        assert session.query(sub(1).mid) == before
        make(session)
    assert sim.subscribers() == [after]


# Switch rows copy their templates; these are the rows written before lines had a state and
# before modify, suspend and restore existed, exactly as the demo data copied them then.
_TL1_LINE = r"^(?P<mid>\d{10}):ESN=(?P<esn>[0-9A-Fa-f]+),FEAT=(?P<features>[A-Za-z0-9&+._-]*)$"
_MML_ROW = (
    r"^MSISDN=(?P<mid>\d{10}),SUBID=(?P<esn>[0-9A-Fa-f]+),PROFILE=(?P<features>[A-Za-z0-9&+._-]*)$"
)
_BER_RECORD = r"^mid=(?P<mid>\d{10}) esn=(?P<esn>\d{11}) features=(?P<features>[A-Za-z0-9&+._-]*)$"
ROWS_BEFORE_STATES = {
    "tl1": {
        "logon": ("ACT-USER:{tid}:{name}:{ctag}::{secret};", r"^COMPLD"),
        "logoff": ("CANC-USER:{tid}:{name}:{ctag};", r"^COMPLD"),
        "keepalive": ("RTRV-HDR:{tid}::{ctag};", r"^COMPLD"),
        "insert": ("ENT-SUB:{tid}:{mid}:{ctag}::ESN={esn},FEAT={features};", r"^COMPLD"),
        "delete": ("DLT-SUB:{tid}:{mid}:{ctag};", r"^COMPLD"),
        "query": ("RTRV-SUB:{tid}:{mid}:{ctag};", _TL1_LINE),
        "dump": ("RTRV-SUB:{tid}:ALL:{ctag};", _TL1_LINE),
    },
    "mml": {
        "insert": ("HGSDC:MSISDN={mid},SUBID={esn},PROFILE={features};", "^EXECUTED$"),
        "delete": ("HGSDE:MSISDN={mid};", "^EXECUTED$"),
        "query": ("HGSDP:MSISDN={mid};", _MML_ROW),
        "dump": ("HGSDP:ALL;", _MML_ROW),
        "keepalive": ("CACLP;", r"^TIME$"),
        "logoff": ("EXIT;", "^EXECUTED$"),
    },
    "ber": {
        "insert": ("mid={mid} esn={esn} features={features}", r"^SUBSCRIBER INSERTED$"),
        "delete": ("mid={mid}", r"^SUBSCRIBER DELETED$"),
        "query": ("mid={mid}", _BER_RECORD),
        "dump": ("", _BER_RECORD),
    },
}


def test_a_switch_row_written_before_these_commands_gets_the_dialects_defaults(
    start, dialect
) -> None:  # type: ignore[no-untyped-def]
    sim = start(dialect)
    row = {name: CommandTemplate(*pair) for name, pair in ROWS_BEFORE_STATES[dialect].items()}
    with open_session(sim.definition("HOU1", commands=row), deadline=DEADLINE) as session:
        session.insert(sub(1))
        session.insert(sub(2))
        session.modify(sub(1).mid, features="20")
        session.suspend(sub(2).mid)
        assert session.query(sub(2).mid) == sub(2, state=SUSPENDED)
        assert list(session.dump()) == [sub(1, "20"), sub(2, state=SUSPENDED)]
        session.restore(sub(2).mid)
    assert sim.subscribers() == [sub(1, "20"), sub(2)]
