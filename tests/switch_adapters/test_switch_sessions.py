"""Every dialect's session against the simulator process: commands, faults, retries, failover.

Runs for each dialect whose adapter and simulator side are both present, over TCP and (where
it matters) over a pty. Faults use the dialect's own denial code, so these tests hold for all.
"""

from __future__ import annotations

import time

import pytest

from switch_adapters import open_session
from switch_adapters.port import (
    Garbled,
    LineDown,
    Subscriber,
    SwitchDenied,
    SwitchTimeout,
)
from switch_adapters.simulator.store import Store

DEADLINE = 1.0
SLACK = 0.5  # scheduling on a busy machine; the deadline itself is what is asserted


def sub(n: int, features: str = "10") -> Subscriber:
    return Subscriber(f"713555{n:04d}", f"138031{n:05d}", features)


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
        assert records == [(s.mid, s.esn, s.features) for s in dumped]
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
