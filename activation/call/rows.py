"""The call's row and its transaction's, as every webhook reads and writes them.

Read: one statement locks the call and its transaction, if it has one, and reads both; the
rows become the session's by hand, without the ORM's loading, which cost more than the read.
Write: what the webhook changed on each goes back as an UPDATE of the changed columns (on
PostgreSQL both in one statement), without the unit of work, which was the dearest part of
a webhook for two rows of known columns. The transaction is written so only when nothing
else of the session's needs the unit of work to order it (no other row changed, no new row
held through a relationship); otherwise the commit's flush writes it with the rest.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import RowMapping, Table, Update, bindparam, select, update
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from activation.store import locks
from activation.store.models import Call, Transaction

_CALLS = cast(Table, Call.__table__)
_TRANSACTIONS = cast(Table, Transaction.__table__)


# Built once: building a statement (and its cache key) costs more than running it. Each row
# is locked in a WITH query of its own, the call's and then its transaction's: PostgreSQL
# locks no row on the nullable side of an outer join, and a call with no transaction yet
# (its first steps) would otherwise take a second statement.
_LOCKED_CALL = (
    select(_CALLS)
    .where(_CALLS.c.call_sid == bindparam("call_sid"))
    .with_for_update()
    .cte("locked_call")
)
_LOCKED_TX = (
    select(_TRANSACTIONS)
    .where(_TRANSACTIONS.c.id == select(_LOCKED_CALL.c.transaction_id).scalar_subquery())
    .with_for_update()
    .cte("locked_tx")
)
# Each model's column attributes: (attribute, column, its label in the statement below).
_MAPPED = {
    model: [
        (p.key, p.columns[0].name, f"{prefix}_{p.key}") for p in class_mapper(model).column_attrs
    ]
    for model, prefix in ((Call, "call"), (Transaction, "tx"))
}
_BOTH = select(
    *(_LOCKED_CALL.c[column].label(label) for _key, column, label in _MAPPED[Call]),
    *(_LOCKED_TX.c[column].label(label) for _key, column, label in _MAPPED[Transaction]),
).select_from(_LOCKED_CALL.outerjoin(_LOCKED_TX, _LOCKED_TX.c.id == _LOCKED_CALL.c.transaction_id))


def lock(session: Session, call_sid: str) -> Call | None:
    """Load a call and its transaction with both rows locked until the session ends."""
    found = session.connection().execute(_BOTH, {"call_sid": call_sid}).first()
    if found is None:
        return None
    values = found._mapping
    if values["tx_id"] is None and values["call_transaction_id"] is not None:
        # Given a transaction while this read waited for the call's lock: the transaction's
        # row is younger than the read's snapshot. A second read sees it, and locks it.
        return lock(session, call_sid)
    call = _persistent(session, Call, values)
    tx = None
    if values["tx_id"] is not None:
        tx = _persistent(session, Transaction, values)
        locks.hold(session, "transactions", tx.id, tx)  # states.lock finds it locked
    set_committed_value(call, "transaction", tx)
    return call


Row = TypeVar("Row", Call, Transaction)


def _persistent(session: Session, model: type[Row], values: RowMapping) -> Row:
    """A row read by a Core statement as the session would have loaded it: in its identity
    map, every column loaded and unchanged, relationships loaded on first use."""
    row = cast(Row, class_mapper(model).class_manager.new_instance())
    instance_state(row).dict.update({key: values[label] for key, _column, label in _MAPPED[model]})
    make_transient_to_detached(row)
    session.add(row)
    return row


# Each SET clause is the changed columns' names: SQLAlchemy compiles each set of names once.
_WRITE_CALL = update(_CALLS).where(_CALLS.c.call_sid == bindparam("key_of_row"))
_WRITE_TX = update(_TRANSACTIONS).where(_TRANSACTIONS.c.id == bindparam("key_of_row"))
_COLUMNS = {
    model: frozenset(key for key, _column, _label in mapped) for model, mapped in _MAPPED.items()
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


@cache
def _both(call_columns: frozenset[str], tx_columns: frozenset[str]) -> Update:
    """One UPDATE of the call carrying its transaction's as a data-modifying WITH (PostgreSQL),
    built once for each pair of changed column sets."""
    tx_written = (
        update(_TRANSACTIONS)
        .where(_TRANSACTIONS.c.id == bindparam("tx_key"))
        .values({_TRANSACTIONS.c[k]: bindparam(f"tx_{k}") for k in sorted(tx_columns)})
        .returning(_TRANSACTIONS.c.id)
        .cte("tx_written")
    )
    return (
        update(_CALLS)
        .where(_CALLS.c.call_sid == bindparam("call_key"))
        .values({_CALLS.c[k]: bindparam(f"call_{k}") for k in sorted(call_columns)})
        .add_cte(tx_written)
    )


def write(session: Session, call: Call) -> None:
    """Write what a webhook changed on its call (and on its transaction when nothing else is
    pending), then let the session forget what was written."""
    tx = call.transaction
    call_changes = _changed(call)
    if "transaction" in instance_state(call).committed_state:
        call_changes["transaction_id"] = tx.id if tx is not None else None
    session.expunge(call)  # written below: nothing of it is left for the commit to flush
    tx_changes: dict[str, Any] = {}
    if tx is not None and _only_change_left(session, tx):
        tx_changes = _changed(tx)
        session.expunge(tx)
    conn = session.connection()
    if call_changes and tx_changes and conn.dialect.name == "postgresql":
        both = _both(frozenset(call_changes), frozenset(tx_changes))
        conn.execute(
            both,
            {"call_key": call.call_sid, "tx_key": tx.id if tx is not None else None}
            | {f"call_{k}": v for k, v in call_changes.items()}
            | {f"tx_{k}": v for k, v in tx_changes.items()},
        )
        return
    if call_changes:
        conn.execute(_WRITE_CALL, {"key_of_row": call.call_sid, **call_changes})
    if tx_changes and tx is not None:
        conn.execute(_WRITE_TX, {"key_of_row": tx.id, **tx_changes})


def _only_change_left(session: Session, tx: Transaction) -> bool:
    """Tell whether the transaction's columns are all the session has left to write of it.

    New rows may wait for the commit's flush when they name their rows by id alone (an
    activity queued, an escalation): the transaction they name is already stored.
    """
    if tx not in session or session.deleted or any(map(_holds_rows, session.new)):
        return False
    dirty = session.dirty
    if len(dirty) != 1 or tx not in dirty:
        return False
    # A changed relationship is the unit of work's to write.
    return all(key in _COLUMNS[Transaction] for key in instance_state(tx).committed_state)


def _holds_rows(row: object) -> bool:
    """Tell whether a new row holds others through a relationship (the unit of work orders
    their writes, so none of them may be written apart)."""
    state = instance_state(row)
    return any(state.dict.get(link.key) is not None for link in state.mapper.relationships)
