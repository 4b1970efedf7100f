"""Number assignment: a MID is handed out once, even with several processes at once."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from activation.lifecycle import numbers
from activation.secrets import Vault
from activation.store import schema
from activation.store.db import Database
from activation.store.models import Agent, Switch, TelephoneNumber, Transaction, utcnow
from activation.store.seed import add_switch

from .pg import needs_postgres, private_database, statements_sent

BLOCK = "713555"


def _prepare(url: str, block_size: int) -> None:
    schema.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        session.add(Agent(agent_code="1001", name="A", pin_hash="x"))
        row = {
            "name": "HOU1",
            "dialect": "tl1",
            "primary_url": "loop://",
            "commands": {"x": 1},
            "npa_nxx": [BLOCK],
        }
        add_switch(session, Vault("test"), row, first_suffix=1, last_suffix=block_size)
    db.dispose()


def _reserve_many(url: str, count: int, offset: int, out: multiprocessing.Queue) -> None:
    db = Database(url)
    taken = []
    for i in range(count):
        with db.transaction() as session:
            agent_id = session.scalar(select(Agent.id))
            tx = Transaction(code=f"{offset + i:08d}", agent_id=agent_id, npa_nxx=BLOCK)
            session.add(tx)
            session.flush()
            mid = numbers.reserve(session, BLOCK, tx)
            if mid is not None:
                tx.mid = mid
                taken.append(mid)
    db.dispose()
    out.put(taken)


def _race(url: str, processes: int, per_process: int) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_reserve_many, args=(url, per_process, 10_000_000 + p * 100_000, out))
        for p in range(processes)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return [mid for taken in results for mid in taken]


def _check(url: str, mids: list[str], block_size: int) -> None:
    assert len(mids) == len(set(mids)), "a MID was handed out twice"
    db = Database(url)
    with db.transaction() as session:
        reserved = session.scalar(select(func.count()).where(TelephoneNumber.status == "reserved"))
        assert reserved == len(mids)
        owners = session.scalar(select(func.count(func.distinct(TelephoneNumber.transaction_id))))
        assert owners == len(mids)
        assert session.scalar(select(Switch.name)) == "HOU1"
    db.dispose()
    assert len(mids) == min(block_size, len(mids))


def test_four_processes_on_sqlite_never_share_a_mid(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    _prepare(url, 100)
    mids = _race(url, 4, 30)  # 120 asked of 100 numbers: the last 20 find none
    assert len(mids) == 100
    _check(url, mids, 100)


@needs_postgres
@pytest.mark.postgres
def test_four_processes_on_postgres_never_share_a_mid():
    with private_database() as url:
        _prepare(url, 400)
        mids = _race(url, 4, 100)
        assert len(mids) == 400
        _check(url, mids, 400)


def test_no_switch_may_take_the_billing_sides_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cas.sqlite3'}"
    schema.upgrade(url)
    db = Database(url)
    row = {"name": "Billing", "dialect": "tl1", "primary_url": "loop://", "npa_nxx": [BLOCK]}
    with pytest.raises(ValueError, match="billing side"), db.transaction() as session:
        add_switch(session, Vault("test"), row)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Switch)) == 0
    db.dispose()


def test_a_number_moves_in_one_update_flushing_nothing_pending(tmp_path: Path) -> None:
    """Moving a MID (active, free, blocked, aging) is one UPDATE of its row: the session's
    pending changes wait for the commit's flush rather than being flushed around it."""
    url = f"sqlite:///{tmp_path / 'cas.sqlite3'}"
    _prepare(url, 3)
    db = Database(url)
    with db.transaction() as session:
        tx = Transaction(code="00000001", agent_id=session.scalar(select(Agent.id)))
        session.add(tx)
        session.flush()
        mid = numbers.reserve(session, BLOCK, tx)
        assert mid is not None
        tx.mid, tx.step = mid, "mid"  # pending
        flushes: list[object] = []
        event.listen(session, "before_flush", lambda *_: flushes.append(1))
        sent = statements_sent(db.engine, "UPDATE")
        numbers.set_number(session, mid, "active", tx.id)
        assert flushes == [] and len(sent) == 1 and "telephone_numbers" in sent[0]
        numbers.age(session, mid, tx.id, utcnow() + timedelta(days=90))
        assert flushes == [] and len(sent) == 2
    with db.read() as session:
        number = session.get_one(TelephoneNumber, mid)
        stored = session.get_one(Transaction, tx.id)
    assert (number.status, number.transaction_id, number.aging_until is not None) == (
        "aging",
        tx.id,
        True,
    )
    assert (stored.mid, stored.step) == (mid, "mid")  # written by the commit's flush
    db.dispose()
