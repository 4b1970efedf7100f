"""The telephone-number inventory: a MID is handed out once, whatever the number of workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from activation.store.db import is_postgres
from activation.store.models import NpaNxxBlock, Switch, TelephoneNumber, Transaction, utcnow


def serving_switch(session: Session, npa_nxx: str) -> Switch | None:
    """Return the active switch that serves an NPA-NXX, or None."""
    return session.scalar(
        select(Switch)
        .join(NpaNxxBlock, NpaNxxBlock.switch_id == Switch.id)
        .where(NpaNxxBlock.npa_nxx == npa_nxx, Switch.active.is_(True))
    )


def reserve(session: Session, npa_nxx: str, tx: Transaction) -> str | None:
    """Reserve the next free MID of the NPA-NXX for the transaction; None when none is left.

    On PostgreSQL the free row is locked with SKIP LOCKED so concurrent callers take different
    rows; on SQLite the transaction already holds the write lock (BEGIN IMMEDIATE). The
    conditional UPDATE makes a lost race visible instead of double-assigning.
    """
    pick = _PICK[is_postgres(session.get_bind())]  # type: ignore[arg-type]
    # On the session's connection: nothing pending on the transaction concerns its numbers,
    # so its changes are flushed once, later, not split around the reservation.
    conn = session.connection()
    for _ in range(5):
        mid = conn.execute(pick, {"npa_nxx": npa_nxx}).scalar()
        if mid is None:
            return None
        taken = conn.execute(_TAKE, {"free_mid": mid, "tx_id": tx.id, "now": utcnow()})
        if taken.rowcount == 1:
            return mid
    return None


# Built once: every claim runs them.
_FREE = (
    select(TelephoneNumber.mid)
    .where(TelephoneNumber.npa_nxx == bindparam("npa_nxx"), TelephoneNumber.status == "free")
    .order_by(TelephoneNumber.mid)
    .limit(1)
)
_PICK = {False: _FREE, True: _FREE.with_for_update(skip_locked=True)}
_TAKE = (
    update(TelephoneNumber)
    .where(TelephoneNumber.mid == bindparam("free_mid"), TelephoneNumber.status == "free")
    .values(status="reserved", transaction_id=bindparam("tx_id"), updated_at=bindparam("now"))
)


def set_number(session: Session, mid: str, status: str, transaction_id: int | None) -> None:
    """Move a MID to another state (active, free, blocked) with its owner."""
    # On the session's connection, as the reservation: no session holds a number as an
    # object, so there is nothing to flush first nor to bring up to date after.
    session.connection().execute(
        _SET, {"number": mid, "status": status, "tx_id": transaction_id, "now": utcnow()}
    )


def age(session: Session, mid: str, transaction_id: int, until: datetime) -> None:
    """Rest a disconnected line's number until a date; it is handed out to no one meanwhile."""
    session.connection().execute(
        _AGE, {"number": mid, "tx_id": transaction_id, "until": until, "now": utcnow()}
    )


# Built once, as the reservation's: building an UPDATE cost more than sending it.
_SET = (
    update(TelephoneNumber)
    .where(TelephoneNumber.mid == bindparam("number"))
    .values(
        status=bindparam("status"), transaction_id=bindparam("tx_id"), updated_at=bindparam("now")
    )
)
_AGE = (
    update(TelephoneNumber)
    .where(TelephoneNumber.mid == bindparam("number"))
    .values(
        status="aging",
        transaction_id=bindparam("tx_id"),
        aging_until=bindparam("until"),
        updated_at=bindparam("now"),
    )
)


def release_aged(session: Session, now: datetime | None = None) -> int:
    """Give every number whose rest is over back to the free pool; return how many."""
    now = now or utcnow()
    released = session.execute(
        update(TelephoneNumber)
        .where(TelephoneNumber.status == "aging", TelephoneNumber.aging_until <= now)
        .values(status="free", transaction_id=None, aging_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount or 0)  # type: ignore[attr-defined]
