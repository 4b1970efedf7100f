"""CAS's side of the comparison: its MIDs in service in MID order, as each side is compared.

Against a switch: the MIDs of the switch's blocks as plain records, (MID, ESN, features,
state); against billing: the lines in service with their transaction's code. Both are read
through the connection's own DB-API cursor a batch at a time: for a million rows SQLAlchemy's
row objects cost more than the SQL. On PostgreSQL the cursor is a named, server-side one, so
only a batch is ever in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, case, func, literal, or_, select

from activation.lifecycle.states import TxStatus
from activation.store.db import Database
from activation.store.models import TelephoneNumber, Transaction
from switch_adapters.port import ACTIVE, SUSPENDED, Record

FETCH = 5000  # database rows fetched at a time
# A line in billing: (MID, transaction code, ESN, rate plan, state, transaction id).
Line = tuple[str, str, str, str, str, int]
# The state a switch holds a line in: suspended for a suspended line, active otherwise.
STATE = case((Transaction.status == TxStatus.SUSPENDED.value, SUSPENDED), else_=ACTIVE)
IN_SERVICE: ColumnElement[bool] = or_(
    Transaction.status == TxStatus.ACTIVE.value, Transaction.status == TxStatus.SUSPENDED.value
)


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
    """Stream the active MIDs of the blocks as (MID, ESN, rate plan, state) records, by MID.

    Without `features` (a switch that keeps none) the third field is empty. A suspended line's
    number stays active in the inventory; its state is its transaction's.
    """
    plan = func.coalesce(Transaction.rate_plan_code, "") if features else literal("")
    # A MID starts with its NPA-NXX: block after block in order is MID order, and each block
    # is read along the (npa_nxx, status, mid, transaction_id) index with nothing to sort.
    query = (
        select(TelephoneNumber.mid, func.coalesce(Transaction.esn, ""), plan, STATE)
        .outerjoin(Transaction, Transaction.id == TelephoneNumber.transaction_id)
        .where(TelephoneNumber.npa_nxx == bindparam("block"), TelephoneNumber.status == "active")
        .order_by(TelephoneNumber.mid)
    )
    compiled: Any = query.compile(dialect=conn.dialect)  # an SQLCompiler: positional or named
    sql = str(compiled)
    for block in sorted(blocks):
        yield from _raw_batches(conn, sql, _args(compiled, {"block": block}))


def lines_in_service(conn: Connection) -> Iterator[list[Line]]:
    """Stream CAS's lines in service (active and suspended) as Line tuples, by MID."""
    query = (
        select(
            Transaction.mid,
            Transaction.code,
            func.coalesce(Transaction.esn, ""),
            func.coalesce(Transaction.rate_plan_code, ""),
            STATE,
            Transaction.id,
        )
        .where(IN_SERVICE, Transaction.mid.is_not(None))
        .order_by(Transaction.mid)
    )
    compiled: Any = query.compile(dialect=conn.dialect)
    yield from _raw_batches(conn, str(compiled), _args(compiled, {}))


def _args(compiled: Any, values: dict[str, Any]) -> Any:
    """The DB-API parameters of a compiled statement, positional or named as its driver wants."""
    params = compiled.construct_params(values)
    if compiled.positional:
        return tuple(params[name] for name in compiled.positiontup or ())
    return params


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


def count_in_service(db: Database) -> int:
    """Count CAS's lines in service (the billing side's progress total)."""
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Transaction)
                .where(IN_SERVICE, Transaction.mid.is_not(None))
            )
            or 0
        )


__all__ = [
    "FETCH",
    "Line",
    "active_records",
    "count_active",
    "count_in_service",
    "lines_in_service",
    "reader",
]
