"""A line as the console shows it: its subscriber, its orders with their work, its history.

A line is its activation transaction once it is in service (active or suspended) or
disconnected. It is found by its number: the line that has the MID now, or else the last
line that had it (a disconnected line keeps its number as `former_mid` while the number ages,
and afterwards the number may live again on another line, so one MID can name several lines
over time; a transaction code picks one of them). Everything here is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from activation.lifecycle.order_states import OrderStatus
from activation.lifecycle.orders import NEEDS, ORDER_TYPES
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.service_layer.line_orders import OrderView, line_orders, view
from activation.store.models import (
    Activity,
    AuditEntry,
    Escalation,
    RatePlan,
    TelephoneNumber,
    Transaction,
)

# A transaction that is (or was) a line in its own right.
LINE_STATES = IN_SERVICE | {TxStatus.DISCONNECTED}
# The activity states the queue page lists (where a failed one is retried).
ON_QUEUE = ("pending", "running", "failed")


@dataclass(frozen=True)
class Work:
    """One activity of an order: a network resource doing its part."""

    id: int
    type: str
    target: str
    state: str
    attempts: int
    max_attempts: int
    last_error: str | None

    @property
    def on_queue(self) -> bool:
        """Tell whether the queue page lists it (and a supervisor may retry it there)."""
        return self.state in ON_QUEUE


@dataclass(frozen=True)
class LineOrder:
    """An order of the line with its milestones and the work it put on the queue."""

    order: OrderView
    work: list[Work]

    @property
    def held(self) -> bool:
        """Tell whether the order waits for a CSR's decision."""
        return self.order.state == OrderStatus.HELD and self.order.type != "activate"

    @property
    def failed_work(self) -> list[Work]:
        """The work a supervisor may retry on the queue page."""
        return [w for w in self.work if w.state == "failed"]


@dataclass(frozen=True)
class Entry:
    """One line of a line's history."""

    at: datetime
    entity: str
    entity_id: str
    old_status: str | None
    new_status: str
    actor: str
    detail: str


@dataclass(frozen=True)
class Plan:
    """A rate plan with its monthly price."""

    code: str
    name: str
    monthly_cents: int


@dataclass(frozen=True)
class LineRef:
    """A line that has (or had) a number, as a look-up lists it."""

    mid: str
    transaction_code: str
    status: str
    name: str
    current: bool  # the line has the number now (not only formerly)


@dataclass(frozen=True)
class LinePage:
    """What the console's line page shows and offers."""

    mid: str  # the number: the line's own, or the one it had before its disconnection
    transaction_code: str
    status: str
    suspend_reason: str | None
    customer_kind: str
    name: str
    address: str
    ssn_last4: str
    esn: str
    plan: Plan | None
    switch_name: str
    activated_at: datetime | None
    aging_until: datetime | None  # a disconnected line's number: when it is free again
    orders: list[LineOrder]
    open_order: LineOrder | None
    offers: tuple[str, ...]  # the order types the line can take now
    plans: list[Plan]  # the rate plans a plan change may choose
    trail: list[Entry]
    others: list[LineRef] = field(default_factory=list)  # other lines with this number


def _lines(session: Session, mid: str) -> list[Transaction]:
    """The lines that have or had the number, the one that has it now first, then newest."""
    found = session.scalars(
        select(Transaction)
        .where(
            or_(Transaction.mid == mid, Transaction.former_mid == mid),
            Transaction.status.in_(LINE_STATES),
        )
        .order_by(Transaction.id.desc())
    )
    return sorted(found, key=lambda tx: tx.mid != mid)  # stable: newest first otherwise


def _ref(tx: Transaction, mid: str) -> LineRef:
    customer = tx.customer
    name = customer.name if customer is not None else tx.bureau_name or ""
    return LineRef(mid, tx.code, tx.status, name, tx.mid == mid)


def numbered(session: Session, mid: str) -> list[LineRef]:
    """The lines that have or had this number (a look-up by MID leads to them)."""
    return [_ref(tx, mid) for tx in _lines(session, mid)]


def _plan(plan: RatePlan) -> Plan:
    return Plan(plan.code, plan.name, plan.monthly_cents)


def _work(session: Session, order_ids: list[int]) -> dict[int, list[Work]]:
    work: dict[int, list[Work]] = {i: [] for i in order_ids}
    for a in session.scalars(
        select(Activity).where(Activity.order_id.in_(order_ids)).order_by(Activity.id)
    ):
        work[a.order_id or 0].append(
            Work(a.id, a.type, a.target, a.state, a.attempts, a.max_attempts, a.last_error)
        )
    return work


def _trail(session: Session, tx: Transaction, order_codes: list[str]) -> list[Entry]:
    """The audit entries of the line, its orders, its activities and escalations, in order."""
    activity_ids = [
        str(i) for i in session.scalars(select(Activity.id).where(Activity.transaction_id == tx.id))
    ]
    escalation_ids = [
        str(i)
        for i in session.scalars(select(Escalation.id).where(Escalation.transaction_id == tx.id))
    ]
    rows = session.scalars(
        select(AuditEntry)
        .where(
            or_(
                (AuditEntry.entity.in_(("transaction", "billing")))
                & (AuditEntry.entity_id == tx.code),
                (AuditEntry.entity == "order") & AuditEntry.entity_id.in_(order_codes),
                (AuditEntry.entity == "activity") & AuditEntry.entity_id.in_(activity_ids),
                (AuditEntry.entity == "escalation") & AuditEntry.entity_id.in_(escalation_ids),
            )
        )
        .order_by(AuditEntry.id)
    )
    return [
        Entry(e.at, e.entity, e.entity_id, e.old_status, e.new_status, e.actor, e.detail)
        for e in rows
    ]


def _aging_until(session: Session, tx: Transaction) -> datetime | None:
    if tx.status != TxStatus.DISCONNECTED or not tx.former_mid:
        return None
    return session.scalar(
        select(TelephoneNumber.aging_until).where(
            TelephoneNumber.mid == tx.former_mid,
            TelephoneNumber.transaction_id == tx.id,
            TelephoneNumber.status == "aging",
        )
    )


def read(session: Session, mid: str, code: str | None = None) -> LinePage | None:
    """The line that has this number (or had it: the one with this transaction code, if given)."""
    lines = _lines(session, mid)
    chosen = [tx for tx in lines if tx.code == code] if code else lines[:1]
    if not chosen:
        return None
    tx = chosen[0]
    placed = line_orders(session, tx)
    work = _work(session, [o.id for o in placed])
    orders = [LineOrder(view(session, o), work[o.id]) for o in placed]
    open_order = next(
        (lo for o, lo in zip(placed, orders, strict=True) if o.id == tx.open_order_id), None
    )
    offers: tuple[str, ...] = ()
    if tx.open_order_id is None and tx.status in IN_SERVICE:
        offers = tuple(t for t in ORDER_TYPES if tx.status in NEEDS[t])
    active_plans = session.scalars(
        select(RatePlan).where(RatePlan.active.is_(True)).order_by(RatePlan.code)
    )
    plan = session.get(RatePlan, tx.rate_plan_code) if tx.rate_plan_code else None
    customer = tx.customer
    return LinePage(
        mid=mid,
        transaction_code=tx.code,
        status=tx.status,
        suspend_reason=tx.suspend_reason,
        customer_kind=(customer.kind if customer else tx.customer_kind) or "",
        name=(customer.name if customer else tx.bureau_name) or "",
        address=(customer.address if customer else tx.bureau_address) or "",
        ssn_last4=(customer.ssn_last4 if customer else tx.ssn_last4) or "",
        esn=tx.esn or "",
        plan=None if plan is None else _plan(plan),
        switch_name=tx.switch_name or "",
        activated_at=tx.completed_at,
        aging_until=_aging_until(session, tx),
        orders=orders,
        open_order=open_order,
        offers=offers,
        plans=[_plan(p) for p in active_plans if p.code != tx.rate_plan_code],
        trail=_trail(session, tx, [o.code for o in placed]),
        others=[_ref(other, mid) for other in lines if other.id != tx.id],
    )
