"""Orders on a line after its activation: placed, carried out by the network, then applied.

An order is placed under its line's row lock: one order in flight per line (a second one is
refused, naming the first, rather than queued: two orders on one line in flight could reach
the switch and billing in different orders, and the agent or partner would not know which
line they were changing). Placing it puts one activity per network resource concerned on the
queue (the line's switch and billing, as TBS's triggers do); the line itself changes only when
every one of them is done (`finish_if_done`), so CAS never believes what the network does not
yet hold. A resource that refuses or gives up holds the order for a CSR.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from activation.inventory import sales
from activation.lifecycle import numbers, states
from activation.lifecycle.assignment import billing_record
from activation.lifecycle.escalations import escalate, settle
from activation.lifecycle.order_states import (
    OrderMove,
    OrderStatus,
    move_order,
    order_allowed,
)
from activation.lifecycle.states import IN_SERVICE, Move, TxStatus
from activation.queue import activities
from activation.store import audit
from activation.store.models import (
    ACTOR_LENGTH,
    Activity,
    Handset,
    RatePlan,
    Switch,
    Transaction,
    utcnow,
)
from activation.store.orders import Order
from activation.validators import esn_problem

ORDER_TYPES = ("change_esn", "change_plan", "suspend", "restore", "disconnect")
SUSPEND_REASONS = ("lost", "stolen", "non_payment")
OLD_HANDSET = ("stock", "lost")
# The line's status each order type needs.
NEEDS: dict[str, frozenset[TxStatus]] = {
    "change_esn": IN_SERVICE,
    "change_plan": IN_SERVICE,
    "suspend": frozenset({TxStatus.ACTIVE}),
    "restore": frozenset({TxStatus.SUSPENDED}),
    "disconnect": IN_SERVICE,
}
# What the switch is told, per order type.
SWITCH_COMMAND = {
    "change_esn": "modify",
    "change_plan": "modify",
    "suspend": "suspend",
    "restore": "restore",
    "disconnect": "delete",
}


class LineRefused(Exception):
    """The order cannot be placed on this line; `kind` says why for machines.

    kind: no_line, in_flight (another order's code in `other`), line_state, invalid.
    """

    def __init__(self, message: str, kind: str, other: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.other = other


def find_line(session: Session, mid: str) -> Transaction | None:
    """The activation transaction of the line that has this MID now, locked."""
    found = session.scalar(select(Transaction.id).where(Transaction.mid == mid))
    if found is None:
        return None
    tx = states.lock(session, found)
    return tx if tx.status in IN_SERVICE else None


def new_code(session: Session) -> str:
    """An eight-digit code no transaction and no order has (the menu takes either)."""
    while True:
        code = f"{secrets.randbelow(90_000_000) + 10_000_000}"
        taken = session.scalar(select(Order.id).where(Order.code == code)) or session.scalar(
            select(Transaction.id).where(Transaction.code == code)
        )
        if taken is None:
            return code


def handset_in_service(session: Session, esn: str, besides: int | None = None) -> bool:
    """Tell whether a handset serves a line, or is being given one (besides one transaction)."""
    return bool(session.scalar(_IN_SERVICE, {"esn": esn, "besides": besides or 0}))


# Built once, both questions in one statement: the ESN step asks it of every handset keyed.
_IN_SERVICE = select(
    or_(
        exists().where(Handset.esn == bindparam("esn"), Handset.status == "active"),
        exists().where(
            Transaction.esn == bindparam("esn"),
            Transaction.id != bindparam("besides"),
            Transaction.status.in_(
                (TxStatus.ACTIVE, TxStatus.SUSPENDED, TxStatus.ASSIGNING, TxStatus.DELAYED)
            ),
        ),
    )
)


def check(session: Session, tx: Transaction, type_: str, params: dict[str, str]) -> dict[str, str]:
    """Refuse an order that cannot be placed on this line now; return its clean parameters."""
    if type_ not in ORDER_TYPES:
        raise LineRefused(f"no such order type: {type_}", "invalid")
    if tx.status not in IN_SERVICE:
        raise LineRefused(f"the line is {tx.status}", "line_state")
    if tx.open_order_id is not None:
        other = session.get(Order, tx.open_order_id)
        code = other.code if other is not None else "?"
        raise LineRefused(f"order {code} is in flight on this line", "in_flight", code)
    if tx.status not in NEEDS[type_]:
        raise LineRefused(f"the line is {tx.status}: it cannot be given a {type_}", "line_state")
    if type_ == "change_esn":
        return _new_handset(session, tx, params)
    if type_ == "change_plan":
        code = str(params.get("rate_plan", "")).strip()
        plan = session.get(RatePlan, code) if code.isascii() else None
        if plan is None or not plan.active:
            raise LineRefused(f"rate plan {code[:8]!r} is not available", "invalid")
        if code == tx.rate_plan_code:
            raise LineRefused(f"the line is on rate plan {code} already", "invalid")
        return {"rate_plan": code}
    if type_ == "suspend":
        reason = str(params.get("reason", "")).strip()
        if reason not in SUSPEND_REASONS:
            raise LineRefused("the reason is lost, stolen or non_payment", "invalid")
        return {"reason": reason}
    return {}


def _new_handset(session: Session, tx: Transaction, params: dict[str, str]) -> dict[str, str]:
    esn = str(params.get("esn", "")).strip()
    problem = esn_problem(esn)
    if problem:
        raise LineRefused(f"the new ESN: {problem}", "invalid")
    if esn == tx.esn:
        raise LineRefused("that handset is the line's own already", "invalid")
    if handset_in_service(session, esn):
        raise LineRefused(f"the handset {esn} is already active", "invalid")
    old = str(params.get("old_handset", "stock")).strip() or "stock"
    if old not in OLD_HANDSET:
        raise LineRefused("the old handset goes back to stock or is lost", "invalid")
    return {"esn": esn, "old_handset": old}


def place(
    session: Session,
    tx: Transaction,
    type_: str,
    params: dict[str, str],
    *,
    channel: str,
    placed_by: str,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Order:
    """Place an order on a line the caller has locked; queue its work; return it in progress."""
    clean = check(session, tx, type_, params)
    order = Order(
        code=new_code(session),
        type=type_,
        status=OrderStatus.ACKNOWLEDGED,
        transaction_id=tx.id,
        mid=tx.mid,
        params=clean,
        channel=channel,
        placed_by=placed_by[:ACTOR_LENGTH],
        api_key_id=api_key_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(order)
    session.flush()
    audit.record(session, "order", order.code, None, order.status, placed_by, f"{type_} {tx.mid}")
    tx.open_order_id = order.id
    _trigger(session, tx, order)
    move_order(session, order, OrderMove.START, placed_by, "work queued")
    return order


def _trigger(session: Session, tx: Transaction, order: Order) -> None:
    """One activity per network resource the order concerns: the line's switch, billing."""
    switch = session.scalar(select(Switch).where(Switch.name == tx.switch_name))
    if switch is None:
        raise LineRefused(f"the line's switch {tx.switch_name} is unknown", "line_state")
    command = SWITCH_COMMAND[order.type]
    change = {k: v for k, v in order.params.items() if k == "esn"}
    if order.type == "change_plan":
        change["features"] = order.params["rate_plan"]
    activities.enqueue(
        session,
        "switch_change",
        {"switch_id": switch.id, "mid": tx.mid, "command": command, **change},
        target=switch.name,
        transaction_id=tx.id,
        order_id=order.id,
    )
    activities.enqueue(
        session,
        "billing_update",
        asdict(billed_after(tx, order)),
        target="billing",
        transaction_id=tx.id,
        order_id=order.id,
    )
    if order.type == "disconnect":  # the service address no longer answers 911 for this line
        activities.enqueue(
            session,
            "e911_remove",
            {"mid": tx.mid, "transaction_code": tx.code},
            target="e911",
            transaction_id=tx.id,
            order_id=order.id,
        )


def billed_after(tx: Transaction, order: Order):  # type: ignore[no-untyped-def]
    """The line's billing record as it will stand once the order is carried out."""
    record = billing_record(tx)
    p = order.params
    if order.type == "change_esn":
        return replace(record, esn=p["esn"])
    if order.type == "change_plan":
        return replace(record, rate_plan=p["rate_plan"])
    state = {"suspend": "suspended", "restore": "active", "disconnect": "disconnected"}
    return replace(record, line_state=state[order.type])


# Built once: asked after every activity of every order.
_WORK_LEFT = (
    select(func.count())
    .select_from(Activity)
    .where(Activity.order_id == bindparam("order_id"), Activity.state != "done")
)


def finish_if_done(session: Session, order: Order, aging_days: int, actor: str = "worker") -> bool:
    """Change the line once every resource of the order has done its part; tell if it did."""
    left = session.scalar(_WORK_LEFT, {"order_id": order.id})
    if left or not order_allowed(order.status, OrderMove.COMPLETE):
        return False
    tx = states.lock(session, order.transaction_id or 0)
    _apply(session, tx, order, utcnow(), aging_days, actor)
    move_order(session, order, OrderMove.COMPLETE, actor, f"{order.type} done")
    tx.open_order_id = None
    return True


def _apply(
    session: Session, tx: Transaction, order: Order, now: datetime, aging_days: int, actor: str
) -> None:
    p = order.params
    if order.type == "change_esn":
        old, tx.esn = tx.esn, p["esn"]
        sales.swap(session, tx, old, p.get("old_handset", "stock"), actor)
        states.note(session, tx, actor, f"handset {old} -> {tx.esn} (order {order.code})")
    elif order.type == "change_plan":
        old, tx.rate_plan_code = tx.rate_plan_code, p["rate_plan"]
        states.note(session, tx, actor, f"rate plan {old} -> {tx.rate_plan_code}")
    elif order.type == "suspend":
        states.move(session, tx, Move.SUSPEND, actor, f"suspended: {p['reason']}")
        tx.suspend_reason = p["reason"]
    elif order.type == "restore":
        states.move(session, tx, Move.RESTORE, actor, f"restored (order {order.code})")
        tx.suspend_reason = None
    else:
        states.move(session, tx, Move.DISCONNECT, actor, f"disconnected (order {order.code})")
        until = now + timedelta(days=aging_days)
        numbers.age(session, tx.mid or "", tx.id, until)
        tx.former_mid, tx.mid = tx.mid, None


def hold(session: Session, order: Order, reason: str, actor: str = "worker") -> None:
    """A resource refused or gave up: hold the order and hand the line to a CSR."""
    if not order_allowed(order.status, OrderMove.HOLD):
        return
    move_order(session, order, OrderMove.HOLD, actor, reason)
    tx = session.get(Transaction, order.transaction_id) if order.transaction_id else None
    escalate(session, f"order {order.code}: {reason}", "order", tx=tx, actor=actor, kind="order")


def resume_held(session: Session, order_id: int | None, actor: str) -> None:
    """A CSR gave a held order's work another go: it is in progress again."""
    order = session.get(Order, order_id) if order_id is not None else None
    if order is not None and order_allowed(order.status, OrderMove.RETRY):
        move_order(session, order, OrderMove.RETRY, actor, "work retried")
        _settle_hold(session, order, actor, "work retried")


def _settle_hold(session: Session, order: Order, actor: str, detail: str) -> None:
    """A CSR decided on a held order: its escalations leave the open list."""
    if order.transaction_id is not None:
        settle(session, order.transaction_id, f"order {order.code}:", actor, detail)


def give_up(session: Session, order: Order, reason: str, actor: str) -> None:
    """A CSR ends a held order: the line stays as the network left it, freed for other orders."""
    move_order(session, order, OrderMove.FAIL, actor, reason)
    _settle_hold(session, order, actor, f"order given up: {reason}")
    for activity in session.scalars(
        select(Activity).where(
            Activity.order_id == order.id, Activity.state.in_(("pending", "failed"))
        )
    ):
        audit.record(session, "activity", str(activity.id), activity.state, "removed", actor)
        activity.state = "removed"
    tx = states.lock(session, order.transaction_id or 0)
    if tx.open_order_id == order.id:
        tx.open_order_id = None
