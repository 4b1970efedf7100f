"""The transition table, exhaustively: every status against every move, allowed or refused."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, update

from activation.lifecycle import states
from activation.lifecycle.states import TRANSITIONS, Move, MoveRefused, TxStatus
from activation.store.models import Agent, AuditEntry, Transaction

from ..pg import statements_sent

EVERY_PAIR = list(itertools.product(TxStatus, Move))


def _transaction(session, status: TxStatus, code: str = "70000001") -> Transaction:  # type: ignore[no-untyped-def]
    agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
    tx = Transaction(code=code, agent_id=agent_id, status=status.value, step="npa_confirm")
    session.add(tx)
    session.flush()
    return tx


def test_the_table_knows_only_real_statuses_and_moves():
    for (source, move), target in TRANSITIONS.items():
        assert isinstance(source, TxStatus) and isinstance(move, Move)
        assert isinstance(target, TxStatus)
    # Every move can happen from somewhere, and every status but the first is reachable.
    assert {move for _, move in TRANSITIONS} == set(Move)
    assert set(TRANSITIONS.values()) | {TxStatus.INCOMPLETE} == set(TxStatus)


@pytest.mark.parametrize(("status", "move"), EVERY_PAIR, ids=[f"{s}-{m}" for s, m in EVERY_PAIR])
def test_every_status_and_move(services, status, move):
    with services.db.transaction() as session:
        tx = _transaction(session, status)
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        target = TRANSITIONS.get((status, move))
        if target is None:
            with pytest.raises(MoveRefused) as refused:
                states.move(session, tx, move, "test")
            assert refused.value.current == status and tx.status == status
            assert str(status) in str(refused.value)
            audited = session.scalars(select(AuditEntry).where(AuditEntry.id > (before or 0)))
            assert list(audited) == []
        else:
            assert states.move(session, tx, move, "test", "why") == target
            assert tx.status == target
            [entry] = session.scalars(select(AuditEntry).where(AuditEntry.id > (before or 0)))
            assert (entry.entity, entry.entity_id) == ("transaction", tx.code)
            assert (entry.old_status, entry.new_status, entry.actor) == (status, target, "test")
            assert entry.detail == "why"
    with services.db.read() as session:
        stored = session.scalar(select(Transaction.status).where(Transaction.code == "70000001"))
        assert stored == (target or status)


def test_the_database_decides_not_a_stale_copy(services):
    """A session that read the status before another moved it is judged on the new status."""
    with services.db.transaction() as session:
        tx = _transaction(session, TxStatus.INCOMPLETE)
        # Another session claimed the number meanwhile (written behind this object's back).
        session.execute(
            update(Transaction)
            .where(Transaction.id == tx.id)
            .values(status="assigning")
            .execution_options(synchronize_session=False)
        )
        assert tx.status == "incomplete"  # the stale copy
        with pytest.raises(MoveRefused) as refused:
            states.move(session, tx, Move.CLAIM_NUMBER, "test")
        assert refused.value.current == TxStatus.ASSIGNING
        assert tx.status == "assigning"  # the copy now tells the truth
        assert states.move(session, tx, Move.INSERTED, "test") == TxStatus.ACTIVE


def test_an_active_transaction_shows_its_final_step(services):
    with services.db.transaction() as session:
        tx = _transaction(session, TxStatus.DELAYED)
        tx.step = "delayed"
        states.move(session, tx, Move.INSERTED, "worker")
        assert (tx.status, tx.step) == ("active", "mid")


def test_begin_opens_an_incomplete_transaction_audited(services):
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        tx = states.begin(session, "70000009", agent_id, "ivr")
        assert (tx.status, tx.step) == ("incomplete", "esn")
        entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == "70000009"))
        assert (entry.old_status, entry.new_status) == (None, "incomplete")


def test_only_a_transaction_an_order_opened_asks_for_its_order(services):
    """A move mirrors an activate order only where a partner's order opened the transaction:
    the moves of a call's transaction do not ask the orders table at all."""
    asked = statements_sent(services.db.engine, "SELECT orders")
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        by_phone = states.begin(session, "70000010", agent_id, "ivr")
        by_order = states.begin(session, "70000011", agent_id, "partner shop", by_order=True)
        assert (by_phone.by_order, by_order.by_order) == (False, True)
        states.move(session, by_phone, Move.ASK_CREDIT, "ivr")
        assert asked == []
        states.move(session, by_order, Move.ASK_CREDIT, "partner shop")
        assert len(asked) == 1
    with services.db.read() as session:
        stored = session.scalars(select(Transaction.by_order).order_by(Transaction.code))
        assert list(stored) == [False, True]
