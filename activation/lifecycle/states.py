"""The life of a transaction: its states, the moves between them, and the one function that moves.

Rules:
- A transaction's status changes only through `move()`: the call's steps, the call-back, the
  CSR console, the API, the worker's results and the comparison's repairs all call it.
- `move()` reads the status under the transaction's row lock (SELECT ... FOR UPDATE on
  PostgreSQL; SQLite's write transactions are serialised by BEGIN IMMEDIATE), checks the move
  against TRANSITIONS, writes the audit row, and refuses anything else with MoveRefused.
- A move not in the table is refused whatever the caller believed the status to be: the status
  in the database decides, not the copy a caller read before someone else moved it.
- Claiming a number is the move out of the states that await one (CLAIM_NUMBER), so a second
  session on the same transaction is refused before it can reserve anything.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from activation.store import audit, locks
from activation.store.models import Transaction, utcnow


class TxStatus(StrEnum):
    """Where a transaction stands."""

    INCOMPLETE = "incomplete"  # being keyed, or stopped part-way (the Incomplete File)
    ABANDONED = "abandoned"  # its caller hung up part-way; resumable by its code
    CREDIT_CHECK = "credit_check"  # the credit bureau is being asked
    DECLINED = "declined"  # the bureau's score declined the customer
    ASSIGNING = "assigning"  # a MID is reserved and its insertion queued
    DELAYED = "delayed"  # the switch did not answer while the caller waited
    ACTIVE = "active"  # the MID is on the switch
    ESCALATED = "escalated"  # waiting for a CSR
    CLOSED = "closed"  # ended by a CSR without an activation
    DENIED = "denied"  # the agent refused the MID on the call-back
    SUSPENDED = "suspended"  # the active line barred (lost, stolen, non-payment)
    DISCONNECTED = "disconnected"  # the line ended; its number ages before it lives again


class Move(StrEnum):
    """What can happen to a transaction."""

    ASK_CREDIT = "ask_credit"  # the SSN is confirmed (or corrected): ask the bureau
    CREDIT_ANSWERED = "credit_answered"  # the bureau answered (or knows no such SSN)
    DECLINE = "decline"  # the confirmed customer's credit is declined
    APPROVE_CREDIT = "approve_credit"  # a CSR approves a declined credit
    CLAIM_NUMBER = "claim_number"  # reserve a MID and queue its insertion: once per transaction
    NO_NUMBER_LEFT = "no_number_left"  # the claimed NPA-NXX has no free number (left)
    SWITCH_LATE = "switch_late"  # the caller's wait for the switch ran out
    INSERTED = "inserted"  # the switch holds the MID
    SWITCH_REFUSED = "switch_refused"  # the switch refused the MID; the number is given back
    WORK_REMOVED = "work_removed"  # a CSR took its queued credit check or insertion away
    ESCALATE = "escalate"  # handed to a CSR
    ABANDON = "abandon"  # the caller hung up while keying or waiting for the bureau
    RESUME = "resume"  # a caller takes an abandoned transaction up again
    RESUME_CHECKING = "resume_checking"  # ... while its credit check is still under way
    CLOSE = "close"  # a CSR ends it without an activation
    DENY = "deny"  # the agent refuses the MID on the call-back
    SUSPEND = "suspend"  # a suspend order completed
    RESTORE = "restore"  # a restore order completed
    DISCONNECT = "disconnect"  # a disconnect order completed


S, M = TxStatus, Move

# The one transition table: (from, move) -> to. Anything else is refused.
TRANSITIONS: dict[tuple[TxStatus, Move], TxStatus] = {
    (S.INCOMPLETE, M.ASK_CREDIT): S.CREDIT_CHECK,
    (S.ESCALATED, M.ASK_CREDIT): S.CREDIT_CHECK,
    (S.DECLINED, M.ASK_CREDIT): S.CREDIT_CHECK,
    (S.CREDIT_CHECK, M.CREDIT_ANSWERED): S.INCOMPLETE,
    (S.INCOMPLETE, M.DECLINE): S.DECLINED,
    (S.DECLINED, M.APPROVE_CREDIT): S.ESCALATED,
    (S.INCOMPLETE, M.CLAIM_NUMBER): S.ASSIGNING,
    (S.ESCALATED, M.CLAIM_NUMBER): S.ASSIGNING,
    (S.ASSIGNING, M.NO_NUMBER_LEFT): S.ESCALATED,
    (S.DELAYED, M.NO_NUMBER_LEFT): S.ESCALATED,
    (S.ASSIGNING, M.SWITCH_LATE): S.DELAYED,
    (S.ASSIGNING, M.INSERTED): S.ACTIVE,
    (S.DELAYED, M.INSERTED): S.ACTIVE,
    (S.ASSIGNING, M.SWITCH_REFUSED): S.ESCALATED,
    (S.DELAYED, M.SWITCH_REFUSED): S.ESCALATED,
    (S.CREDIT_CHECK, M.WORK_REMOVED): S.ESCALATED,
    (S.ASSIGNING, M.WORK_REMOVED): S.ESCALATED,
    (S.DELAYED, M.WORK_REMOVED): S.ESCALATED,
    (S.INCOMPLETE, M.ESCALATE): S.ESCALATED,
    (S.CREDIT_CHECK, M.ESCALATE): S.ESCALATED,
    (S.INCOMPLETE, M.ABANDON): S.ABANDONED,
    (S.CREDIT_CHECK, M.ABANDON): S.ABANDONED,
    (S.ABANDONED, M.CREDIT_ANSWERED): S.ABANDONED,
    (S.ABANDONED, M.RESUME): S.INCOMPLETE,
    (S.ABANDONED, M.RESUME_CHECKING): S.CREDIT_CHECK,
    (S.ABANDONED, M.ESCALATE): S.ESCALATED,
    (S.ABANDONED, M.CLOSE): S.CLOSED,
    (S.ABANDONED, M.ASK_CREDIT): S.CREDIT_CHECK,
    (S.ABANDONED, M.CLAIM_NUMBER): S.ASSIGNING,
    (S.INCOMPLETE, M.CLOSE): S.CLOSED,
    (S.ESCALATED, M.CLOSE): S.CLOSED,
    (S.DECLINED, M.CLOSE): S.CLOSED,
    (S.ACTIVE, M.DENY): S.DENIED,
    (S.ACTIVE, M.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, M.RESTORE): S.ACTIVE,
    (S.ACTIVE, M.DISCONNECT): S.DISCONNECTED,
    (S.SUSPENDED, M.DISCONNECT): S.DISCONNECTED,
}

# Statuses a caller may take up again where the transaction stopped.
RESUMABLE = frozenset({S.INCOMPLETE, S.CREDIT_CHECK, S.ABANDONED})
# Statuses in which an outside system is working for the transaction.
IN_FLIGHT = frozenset({S.CREDIT_CHECK, S.ASSIGNING, S.DELAYED})
# Statuses whose activation is over: only the line's own orders move them now.
FINISHED = frozenset({S.ACTIVE, S.CLOSED, S.DENIED, S.SUSPENDED, S.DISCONNECTED})
# A line orders may be placed on: its number is on its switch.
IN_SERVICE = frozenset({S.ACTIVE, S.SUSPENDED})
# The step a transaction shows once it reaches a status, whatever a caller's step was.
FINAL_STEP: dict[TxStatus, str] = {S.ACTIVE: "mid"}


class MoveRefused(Exception):
    """The move does not fit the transaction's status; `current` is where it stands."""

    def __init__(self, code: str, current: TxStatus, move: Move) -> None:
        super().__init__(f"transaction {code} is {current}: cannot {move.replace('_', ' ')}")
        self.code = code
        self.current = current
        self.move = move


def begin(
    session: Session,
    code: str,
    agent_id: int,
    actor: str,
    salesperson_id: int | None = None,
    *,
    by_order: bool = False,
) -> Transaction:
    """Open a new transaction for an agent (sold by one of its salespeople, if named; for a
    partner's activate order, if by_order): the one way a transaction comes to be."""
    tx = Transaction(
        code=code,
        agent_id=agent_id,
        salesperson_id=salesperson_id,
        status=S.INCOMPLETE.value,
        step="esn",
        by_order=by_order,
    )
    session.add(tx)
    session.flush()
    audit.record(session, "transaction", code, None, S.INCOMPLETE, actor, "new transaction")
    return tx


def allowed(status: str, move: Move) -> bool:
    """Tell whether the table allows a move from a status."""
    return (TxStatus(status), move) in TRANSITIONS


# Built once (as every statement run on each move): building it cost more than running it.
_LOCK = (
    select(Transaction)
    .where(Transaction.id == bindparam("transaction_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock(session: Session, transaction_id: int) -> Transaction:
    """Load a transaction fresh from the database, its row locked until the session ends.

    Locked once a transaction: a second lock of the same row (the worker's, then its job's)
    is the row already loaded under the lock.
    """
    if locks.held(session, "transactions", transaction_id):
        tx = session.get(Transaction, transaction_id)
        if tx is not None:
            return tx
    tx = session.scalars(_LOCK, {"transaction_id": transaction_id}).one()
    locks.hold(session, "transactions", transaction_id, tx)
    return tx


def move(session: Session, tx: Transaction, what: Move, actor: str, detail: str = "") -> TxStatus:
    """Make a move under the transaction's row lock and audit it; refuse it when not allowed."""
    current = TxStatus(checked_status(session, tx, Transaction))
    target = TRANSITIONS.get((current, what))
    if target is None:
        raise MoveRefused(tx.code, current, what)
    audit.record(session, "transaction", tx.code, current, target, actor, detail or what)
    tx.status = target
    tx.updated_at = utcnow()
    if target in FINAL_STEP:
        tx.step = FINAL_STEP[target]
    _mirror_order(session, tx)
    return target


@cache
def _status_lock(model: Any) -> Any:
    return select(model.status).where(model.id == bindparam("row_id")).with_for_update()


def checked_status(session: Session, row: Any, model: Any) -> str:
    """Read a row's status under its lock; a copy that went stale is corrected to it."""
    table = model.__tablename__
    if row in session and (
        locks.held(session, table, row.id) or locks.held(session, f"{table}.status", row.id)
    ):
        return str(row.status)  # read under this transaction's lock: it is the stored one
    stored = session.scalar(_status_lock(model), {"row_id": row.id})
    current = stored if stored is not None else row.status
    if current != row.status:
        # Someone moved it since this session read it: the database is right.
        set_committed_value(row, "status", current)
    locks.hold(session, f"{table}.status", row.id)
    return str(current)


def _mirror_order(session: Session, tx: Transaction) -> None:
    """An activate order's state is its transaction's, in the partner's words."""
    from activation.lifecycle import notices  # the order's notices; below this module's table

    notices.transaction_moved(session, tx)


def note(session: Session, tx: Transaction, actor: str, detail: str) -> None:
    """Audit something that happened to a transaction without moving it."""
    audit.record(session, "transaction", tx.code, tx.status, tx.status, actor, detail)
