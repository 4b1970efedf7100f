"""A webhook's call and transaction rows: locked by one read, written back by hand or by flush."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, exc, inspect, select, text

from activation.call import rows
from activation.call.context import open_call
from activation.lifecycle import states
from activation.lifecycle.escalations import escalate
from activation.services import Services
from activation.settings import Settings
from activation.store import locks
from activation.store.models import Call, Escalation, Transaction
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap
from tests.pg import engines, private_database, statements_sent

SID = "CA" + "7" * 32
ALONE = "CA" + "8" * 32  # a call at its first steps: no transaction yet


@pytest.fixture(params=engines())
def on(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Services]:
    """Services on the engine of the parameter, with one call at a step of its transaction."""
    if request.param == "postgres":
        with private_database() as url:
            settings = replace(settings, database_url=url)
            init_database(settings, demo=True)
            yield from _with_a_call(bootstrap(settings))
    else:
        yield from _with_a_call(bootstrap(settings))


def _with_a_call(services: Services) -> Iterator[Services]:
    try:
        with services.db.transaction() as session:
            tx = states.begin(session, "55501234", 1, "test")
            call = open_call(SID, "+15005550006", "inbound", transaction=tx)
            call.step = "esn"
            session.add(call)
        yield services
    finally:
        services.db.dispose()


def _stored(services: Services) -> tuple[Call, Transaction]:
    with services.db.read() as session:
        call = session.get_one(Call, SID)
        return call, session.get_one(Transaction, call.transaction_id)


def test_one_read_loads_the_call_with_its_transaction_locked(on: Services) -> None:
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None and call.transaction is not None
        assert call.transaction.code == "55501234"
        # The move that follows finds the transaction already locked: no second read.
        assert locks.held(session, "transactions", call.transaction.id)
        assert states.lock(session, call.transaction.id) is call.transaction
    with on.db.transaction() as session:
        assert rows.lock(session, "CA" + "0" * 32) is None


def test_a_call_is_read_in_one_statement_with_or_without_a_transaction(on: Services) -> None:
    with on.db.transaction() as session:
        session.add(open_call(ALONE, "+15005550006", "inbound"))
    reads = statements_sent(on.db.engine, "SELECT", "WITH locked_call")
    for sid, code in ((SID, "55501234"), (ALONE, None)):
        with on.db.transaction() as session:
            call = rows.lock(session, sid)
            assert call is not None
            assert (call.transaction.code if call.transaction else None) == code
        assert len(reads) == 1, reads
        reads.clear()


def test_the_rows_read_are_the_sessions_own_as_the_orm_would_load_them(on: Services) -> None:
    with on.db.read() as session:  # the ORM's own loading, to compare with
        loaded = {
            model: {key: getattr(row, key) for key in rows._COLUMNS[model]}
            for model, row in zip((Call, Transaction), _stored(on), strict=True)
        }
    reads = statements_sent(on.db.engine, "SELECT", "WITH")
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None and call.transaction is not None
        tx = call.transaction
        for row in (call, tx):
            assert inspect(row).persistent and not inspect(row).modified
            assert {key: getattr(row, key) for key in rows._COLUMNS[type(row)]} == loaded[type(row)]
        assert call.created_at.tzinfo is not None and isinstance(call.failures, dict)
        # In the session's identity map: asked for again, no second read.
        assert session.get(Call, SID) is call and session.get(Transaction, tx.id) is tx
        assert len(reads) == 1 and not session.dirty and not session.new
        # A relationship not read with them loads on first use.
        assert tx.agent is not None and tx.agent.id == tx.agent_id
        assert len(reads) == 2, reads


# SQLite holds one write lock for the whole database: row locks are PostgreSQL's alone.
@pytest.mark.parametrize("on", [p for p in engines() if p != "sqlite"], indirect=True)
def test_both_rows_stay_locked_until_the_webhook_ends(on: Services) -> None:
    other = create_engine(on.db.url)
    try:
        with on.db.transaction() as session:
            call = rows.lock(session, SID)
            assert call is not None and call.transaction is not None
            tx_id = call.transaction.id
            for table, key, value in (("calls", "call_sid", SID), ("transactions", "id", tx_id)):
                with other.connect() as conn, pytest.raises(exc.OperationalError):
                    conn.execute(
                        text(f"SELECT 1 FROM {table} WHERE {key} = :v FOR UPDATE NOWAIT"),
                        {"v": value},
                    )
        with other.connect() as conn:  # the webhook committed: both rows are free again
            locked = text("SELECT 1 FROM transactions WHERE id = :v FOR UPDATE NOWAIT")
            assert conn.scalar(locked, {"v": tx_id}) == 1
    finally:
        other.dispose()


def test_changes_to_both_rows_are_written_by_hand_when_nothing_else_is_pending(
    on: Services,
) -> None:
    updates = statements_sent(on.db.engine, "UPDATE", "WITH tx_written")
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None and call.transaction is not None
        tx = call.transaction
        call.step, call.seq, tx.step = "kind", 5, "kind"
        call.failures = {"esn": 1}
        tx.esn = tx.esn  # set to what it was: no change
        rows.write(session, call)
        # Written: the commit has nothing left to flush.
        assert call not in session and tx not in session and not session.dirty
    # PostgreSQL takes both rows in one statement; SQLite, which has no UPDATE in WITH, in two.
    assert len(updates) == (1 if on.db.engine.dialect.name == "postgresql" else 2)
    call, tx = _stored(on)
    assert (call.step, call.seq, call.failures, tx.step, tx.esn) == (
        "kind",
        5,
        {"esn": 1},
        "kind",
        None,
    )


def test_a_new_row_naming_the_transaction_by_id_waits_for_the_commit(on: Services) -> None:
    writes = statements_sent(on.db.engine, "UPDATE", "WITH tx_written", "INSERT INTO escalations")
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None and call.transaction is not None
        tx = call.transaction
        escalate(session, "a pending escalation", "ssn", tx=tx, call_sid=SID)
        call.step, tx.step = "ssn", "ssn"
        assert session.new  # the escalation's row, written by the commit's flush
        rows.write(session, call)
        assert call not in session and tx not in session  # both written by hand
    hand = 1 if on.db.engine.dialect.name == "postgresql" else 2
    assert [w.split()[0] for w in writes] == ["WITH" if hand == 1 else "UPDATE"] * hand + ["INSERT"]
    call, tx = _stored(on)
    assert (call.step, tx.step, tx.status) == ("ssn", "ssn", "escalated")
    with on.db.read() as session:
        reasons = session.scalars(
            select(Escalation.reason).where(Escalation.transaction_id == tx.id)
        )
        assert list(reasons) == ["a pending escalation"]


def test_the_transaction_goes_with_the_flush_when_a_new_row_holds_it(on: Services) -> None:
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None and call.transaction is not None
        tx = call.transaction
        call.step, tx.step = "ssn", "ssn"
        session.add(Escalation(call_sid=SID, transaction=tx, step="ssn", reason="held"))
        rows.write(session, call)
        assert call not in session and tx in session  # the unit of work orders the two
    call, tx = _stored(on)
    assert (call.step, tx.step) == ("ssn", "ssn")
    with on.db.read() as session:
        held = session.scalar(select(Escalation).where(Escalation.reason == "held"))
        assert held is not None and held.transaction_id == tx.id


def test_a_call_leaving_its_transaction_is_written_with_no_transaction(on: Services) -> None:
    with on.db.transaction() as session:
        call = rows.lock(session, SID)
        assert call is not None
        call.transaction = None
        call.step = "menu"
        rows.write(session, call)
    with on.db.read() as session:
        stored = session.get_one(Call, SID)
        assert (stored.transaction_id, stored.step) == (None, "menu")


@pytest.mark.parametrize("on", [p for p in engines() if p != "sqlite"], indirect=True)
def test_a_read_waiting_for_the_call_sees_the_transaction_it_was_given_meanwhile(
    on: Services,
) -> None:
    """A second webhook of a call waits for the first's lock; the first gives the call a new
    transaction and commits. The transaction's row is younger than the waiting read's
    snapshot, yet the read comes back with it, locked."""
    with on.db.transaction() as session:
        session.add(open_call(ALONE, "+15005550006", "inbound"))
    seen: list[tuple[str | None, bool]] = []

    def second_webhook() -> None:
        with on.db.transaction() as session:
            call = rows.lock(session, ALONE)
            assert call is not None
            tx = call.transaction
            seen.append(
                (
                    tx.code if tx else None,
                    tx is not None and locks.held(session, "transactions", tx.id),
                )
            )

    with on.db.transaction() as session:
        call = rows.lock(session, ALONE)
        assert call is not None and call.transaction is None
        call.transaction = states.begin(session, "55509876", 1, "test")
        waiting = threading.Thread(target=second_webhook)
        waiting.start()
        _until_waiting_for_a_lock(on)
    waiting.join(timeout=10)
    assert seen == [("55509876", True)]


def _until_waiting_for_a_lock(services: Services) -> None:
    wait = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    with services.db.engine.connect() as conn:
        for _ in range(200):
            if conn.scalar(wait):
                return
            # PostgreSQL keeps one picture of pg_stat_activity for a whole transaction: each
            # look must be a transaction of its own, or the first look is the only one.
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the second webhook never waited for the call's lock")
