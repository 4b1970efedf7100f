"""CAS's side of the comparison: its active MIDs in MID order, and what is under way meanwhile.

The active MIDs are read as plain records, (MID, ESN, features), through the connection's own
DB-API cursor a batch at a time: for a million rows SQLAlchemy's row objects cost more than the
SQL. On PostgreSQL the cursor is a named, server-side one, so only a batch is ever in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, literal, select

from activation.store.db import Database
from activation.store.models import Activity, TelephoneNumber, Transaction
from switch_adapters.port import Record

FETCH = 5000  # database rows fetched at a time


@contextmanager
def reader(db: Database) -> Iterator[Connection]:
    """A connection that streams CAS's side without holding anyone up.

    One read-only transaction (Database.read): on SQLite it takes no write lock, so calls go on
    writing under WAL while the run reads its snapshot.
    """
    with db.read() as session:
        yield session.connection()


def active_records(
    conn: Connection, blocks: Sequence[str], *, features: bool = True
) -> Iterator[list[Record]]:
    """Stream the active MIDs of the blocks as (MID, ESN, rate plan, "active") records, by MID.

    Without `features` (a switch that keeps none) the third field is empty.
    """
    plan = func.coalesce(Transaction.rate_plan_code, "") if features else literal("")
    # A MID starts with its NPA-NXX: block after block in order is MID order, and each block
    # is read along the (npa_nxx, status, mid, transaction_id) index with nothing to sort.
    query = (
        select(TelephoneNumber.mid, func.coalesce(Transaction.esn, ""), plan, literal("active"))
        .outerjoin(Transaction, Transaction.id == TelephoneNumber.transaction_id)
        .where(TelephoneNumber.npa_nxx == bindparam("block"), TelephoneNumber.status == "active")
        .order_by(TelephoneNumber.mid)
    )
    compiled: Any = query.compile(dialect=conn.dialect)  # an SQLCompiler: positional or named
    sql = str(compiled)
    for block in sorted(blocks):
        params = compiled.construct_params({"block": block})
        args: Any = (
            tuple(params[name] for name in compiled.positiontup or ())
            if compiled.positional
            else params
        )
        yield from _raw_batches(conn, sql, args)


def _raw_batches(conn: Connection, sql: str, args: Any) -> Iterator[list[Any]]:
    """Run SQL on the connection's DB-API cursor, in its transaction; yield row batches."""
    driver: Any = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="cas_comparison") if postgres else driver.cursor()
    try:
        cursor.execute(sql, args)
        while rows := cursor.fetchmany(FETCH):
            yield rows
    finally:
        cursor.close()


def count_active(db: Database, blocks: Sequence[str]) -> int:
    """Count the active MIDs of the blocks (the progress bar's total)."""
    if not blocks:
        return 0
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(TelephoneNumber)
                .where(TelephoneNumber.npa_nxx.in_(blocks), TelephoneNumber.status == "active")
            )
            or 0
        )


def last_activity_id(db: Database) -> int:
    """The newest activity's id: what is queued after it is queued during the run."""
    with db.read() as session:
        return int(session.scalar(select(func.max(Activity.id))) or 0)


def inserts_under_way(db: Database, switch_id: int, after_id: int | None = None) -> dict[str, int]:
    """MIDs with a switch insertion queued or running, by activity id.

    With `after_id`: every insertion queued after that activity, whatever became of it.
    """
    which: ColumnElement[bool] = (
        Activity.state.in_(("pending", "running")) if after_id is None else Activity.id > after_id
    )
    found: dict[str, int] = {}
    with db.read() as session:
        rows = session.execute(
            select(Activity.id, Activity.payload).where(Activity.type == "switch_insert", which)
        )
        for activity_id, payload in rows:
            if payload.get("switch_id") == switch_id:
                found[payload["subscriber"]["mid"]] = activity_id
    return found


__all__ = [
    "FETCH",
    "active_records",
    "count_active",
    "inserts_under_way",
    "last_activity_id",
    "reader",
]
