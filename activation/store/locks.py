"""The row locks a session's transaction holds, so a row is locked (and read) once a transaction.

A lock lasts until the transaction ends; within it the row cannot change under us, so a
second `SELECT ... FOR UPDATE` of it (the worker's, then the job's, then the move's) only
costs a round trip. The memory belongs to the session's root transaction: a new
transaction starts with none. It also keeps the locked row's object alive: a session holds
what it loaded only while something references it, and a row reloaded costs a round trip.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

_KEY = "cas_row_locks"


def _held(session: Session) -> dict[tuple[str, Any], object]:
    root = session.get_transaction()
    if root is None:
        return {}  # no transaction, no lock
    owner, rows = session.info.get(_KEY, (None, {}))
    if owner is not root:
        rows = {}
        session.info[_KEY] = (root, rows)
    return rows


def hold(session: Session, table: str, row_id: Any, row: object = None) -> None:
    """Note that this transaction has just locked a row (and read it fresh)."""
    _held(session)[(table, row_id)] = row


def held(session: Session, table: str, row_id: Any) -> bool:
    """Tell whether this transaction already holds a row's lock."""
    return (table, row_id) in _held(session)
