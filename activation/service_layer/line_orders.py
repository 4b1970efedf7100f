"""Use cases of a line's orders: place one, read one, and a CSR's decisions on a held one.

The console, the partner API and the call place orders here; each call is one unit of work
with the line's row locked. What a use case refuses it raises as LineRefused (why, and a
kind for machines), which every entry point turns into its own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.call.customer import ask_pvs
from activation.lifecycle import orders
from activation.lifecycle.order_states import OrderMove, order_allowed
from activation.lifecycle.orders import LineRefused
from activation.services import Services
from activation.store.models import Activity, AuditEntry, Transaction
from activation.store.orders import Order


@dataclass(frozen=True)
class Milestone:
    """One step of an order's life: when, to which state, why."""

    at: datetime
    state: str
    detail: str


@dataclass(frozen=True)
class OrderView:
    """An order as the console and the API show it."""

    code: str
    type: str
    state: str
    mid: str | None
    params: dict[str, str]
    channel: str
    placed_by: str
    failure: str | None
    transaction_code: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    milestones: list[Milestone] = field(default_factory=list)
    activities: list[tuple[str, str, str, int]] = field(default_factory=list)


def view(session: Session, order: Order) -> OrderView:
    """Describe an order with its milestones and the state of its work."""
    tx = order.transaction
    entity = ("transaction", tx.code) if order.type == "activate" and tx else ("order", order.code)
    trail = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == entity[0], AuditEntry.entity_id == entity[1])
        .order_by(AuditEntry.id)
    )
    work = session.scalars(
        select(Activity).where(Activity.order_id == order.id).order_by(Activity.id)
    )
    return OrderView(
        code=order.code,
        type=order.type,
        state=order.status,
        mid=order.mid or (tx.mid if tx else None),
        params=dict(order.params or {}),
        channel=order.channel,
        placed_by=order.placed_by,
        failure=order.failure,
        transaction_code=tx.code if tx else None,
        created_at=order.created_at,
        updated_at=order.updated_at,
        completed_at=order.completed_at,
        milestones=[
            Milestone(e.at, e.new_status, e.detail) for e in trail if e.new_status != e.old_status
        ],
        activities=[(a.type, a.target, a.state, a.attempts) for a in work],
    )


def _screen_handset(services: Services, type_: str, params: dict[str, Any]) -> None:
    """Ask the positive validation system of a new handset before the line is locked."""
    if type_ != "change_esn":
        return
    esn = str(params.get("esn", ""))
    answer = ask_pvs(services, None, esn)
    if answer is None:
        return  # not a well-formed ESN: the order's own check says so
    if answer.listed is None:
        raise LineRefused(f"the handset {esn} cannot be checked now ({answer.failure})", "retry")
    if answer.listed:
        raise LineRefused(
            f"the handset {esn} is listed by the positive validation system", "invalid"
        )


def place(
    services: Services,
    mid: str,
    type_: str,
    params: dict[str, Any],
    *,
    channel: str,
    placed_by: str,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> OrderView:
    """Place an order on the line that has this MID; its work is queued at once."""
    _screen_handset(services, type_, params)
    with services.db.transaction() as session:
        tx = orders.find_line(session, mid)
        if tx is None:
            raise LineRefused(f"no line in service has the number {mid}", "no_line")
        order = orders.place(
            session,
            tx,
            type_,
            {k: str(v) for k, v in params.items()},
            channel=channel,
            placed_by=placed_by,
            api_key_id=api_key_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        return view(session, order)


def find(services: Services, code: str) -> OrderView | None:
    """Read an order by its code."""
    with services.db.read() as session:
        order = session.scalar(select(Order).where(Order.code == code))
        return None if order is None else view(session, order)


def line_orders(session: Session, tx: Transaction) -> list[Order]:
    """Every order on a line, newest first."""
    return list(
        session.scalars(
            select(Order).where(Order.transaction_id == tx.id).order_by(Order.id.desc())
        )
    )


def give_up(services: Services, code: str, reason: str, actor: str) -> str:
    """A CSR ends a held order; the line stays as the network left it."""
    reason = reason.strip()
    if not reason:
        raise LineRefused("give the reason", "invalid")
    with services.db.transaction() as session:
        order = session.scalar(select(Order).where(Order.code == code))
        if order is None:
            raise LineRefused(f"no order {code}", "no_line")
        if order.type == "activate" or not order_allowed(order.status, OrderMove.FAIL):
            raise LineRefused(f"order {code} is {order.status}", "line_state")
        orders.give_up(session, order, reason, actor)
    return f"Order {code} given up."
