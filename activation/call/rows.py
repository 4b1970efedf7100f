"""The call's row and its transaction's, as every webhook reads and writes them.

Read: one statement locks the call and its transaction (call first, as everywhere) and loads
both. Write: what the webhook changed on each goes back as one UPDATE of the changed columns,
without the unit of work, which was the dearest part of a webhook for two rows of known
columns. The transaction is written so only when nothing else is pending (no new row to link
to it); otherwise the commit's flush writes it with the rest.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select, true, update
from sqlalchemy.orm import Session, aliased, class_mapper
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from activation.store import locks
from activation.store.models import Call, Transaction


def _locking_read() -> Select[Call, Transaction]:
    # PostgreSQL locks no row on the nullable side of an outer join: the transaction is
    # locked inside a lateral subquery instead, after the call's row (SQLite's write lock
    # covers both; it ignores FOR UPDATE).
    the_call = select(Call).where(Call.call_sid == bindparam("call_sid")).with_for_update()
    calls = the_call.subquery("c")
    its_tx = (
        select(Transaction)
        .where(Transaction.id == calls.c.transaction_id)
        .with_for_update()
        .lateral("t")
    )
    call, tx = aliased(Call, calls), aliased(Transaction, its_tx)
    return select(call, tx).outerjoin(tx, true())


def _plain_read() -> Select[Call, Transaction]:
    return (
        select(Call, Transaction)
        .outerjoin(Transaction, Transaction.id == Call.transaction_id)
        .where(Call.call_sid == bindparam("call_sid"))
    )


# Built once: building a statement (and its cache key) costs more than running it.
_READS = {"postgresql": _locking_read(), "sqlite": _plain_read()}


def lock(session: Session, call_sid: str) -> Call | None:
    """Load a call and its transaction with both rows locked until the session ends."""
    read = _READS.get(session.get_bind().dialect.name, _READS["postgresql"])
    found = session.execute(read, {"call_sid": call_sid}).first()
    if found is None:
        return None
    call, tx = found
    if tx is not None:
        locks.hold(session, "transactions", tx.id, tx)  # states.lock finds it locked
    set_committed_value(call, "transaction", tx)
    return call


_CALLS = cast(Table, Call.__table__)
_TRANSACTIONS = cast(Table, Transaction.__table__)
# Each SET clause is the changed columns' names: SQLAlchemy compiles each set of names once.
_WRITE_CALL = update(_CALLS).where(_CALLS.c.call_sid == bindparam("key_of_row"))
_WRITE_TX = update(_TRANSACTIONS).where(_TRANSACTIONS.c.id == bindparam("key_of_row"))
_COLUMNS = {
    model: frozenset(column.key for column in class_mapper(model).column_attrs)
    for model in (Call, Transaction)
}


def _changed(row: Call | Transaction) -> dict[str, Any]:
    """The columns set since the row was loaded, at their new values (set to the same value
    is no change)."""
    state = instance_state(row)
    columns = _COLUMNS[type(row)]
    changed = {}
    for key, before in state.committed_state.items():
        if key in columns:
            now = state.dict.get(key)
            if now != before:
                changed[key] = now
    return changed


def write(session: Session, call: Call) -> None:
    """Write what a webhook changed on its call (and on its transaction when nothing else is
    pending), then let the session forget what was written."""
    tx = call.transaction
    changed = _changed(call)
    if "transaction" in instance_state(call).committed_state:
        changed["transaction_id"] = tx.id if tx is not None else None
    if changed:
        session.connection().execute(_WRITE_CALL, {"key_of_row": call.call_sid, **changed})
    session.expunge(call)  # written: nothing of it is left for the commit to flush
    if tx is None or tx not in session or session.new or session.deleted:
        return
    dirty = session.dirty
    if not dirty or len(dirty) > 1 or tx not in dirty:
        return
    state = instance_state(tx)
    if any(key not in _COLUMNS[Transaction] for key in state.committed_state):
        return  # a relationship changed: the unit of work knows how to write that
    changed = _changed(tx)
    if changed:
        session.connection().execute(_WRITE_TX, {"key_of_row": tx.id, **changed})
    session.expunge(tx)
