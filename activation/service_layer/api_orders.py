"""A partner's orders: the whole order in one request, an idempotency key, read back at will.

`submit` takes the order's JSON body as the partner sent it. The same Idempotency-Key with the
same body gives the same order back (a partner retrying after a lost answer never orders
twice); the same key with another body is refused. Keys are the partner key's own. The body's
fingerprint is a keyed hash: the body holds a PIN and an SSN, which are never kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from activation.call.customer import ask_pvs
from activation.inventory import stock
from activation.keyed import is_digits
from activation.lifecycle import agents, numbers, orders, states
from activation.lifecycle.agents import Logon
from activation.lifecycle.order_states import ACTIVATION_STATE
from activation.lifecycle.orders import LineRefused
from activation.lifecycle.states import Move, TxStatus
from activation.queue import activities
from activation.service_layer import line_orders, order_salespeople
from activation.service_layer.line_orders import OrderView
from activation.services import Services
from activation.store.models import Agent, RatePlan, Transaction, utcnow
from activation.store.orders import Order
from activation.store.salespeople import Salesperson
from activation.store.staff import ApiKey
from activation.validators import ein_problem, esn_problem, npa_nxx_problem, ssn_problem


class OrderRejected(Exception):
    """The order is not taken; `status` is the HTTP status, `reason` a code for machines."""

    def __init__(self, status: int, reason: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.extra = status, reason, extra


@dataclass(frozen=True)
class Caller:
    """The partner key an order comes with, and the partner record it belongs to."""

    api_key_id: int
    partner_id: int
    partner: str


ORDER_FIELDS = ("esn", "old_handset", "rate_plan", "reason")
LINE_STATUS = {"no_line": 404, "in_flight": 409, "line_state": 409, "invalid": 422, "retry": 503}


def _digits(body: dict[str, Any], name: str, problem: Any = None) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not is_digits(value):
        raise OrderRejected(422, "invalid", f"'{name}' is missing or not digits")
    found = problem(value) if problem else None
    if found:
        raise OrderRejected(422, "invalid", f"'{name}': {found}")
    return value


def fingerprint(services: Services, body: dict[str, Any]) -> str:
    """A keyed hash of the body, to tell a replay from another order under the same key."""
    return services.vault.lookup_hash(json.dumps(body, sort_keys=True, separators=(",", ":")))


def submit(
    services: Services, caller: Caller, key: str, body: dict[str, Any]
) -> tuple[bool, OrderView]:
    """Take an order (or find it again by its key); tell whether it is new."""
    digest = fingerprint(services, body)
    replay = _replay(services, caller, key, digest)
    if replay is not None:
        return False, replay
    type_ = body.get("type")
    try:
        if type_ == "activate":
            return True, _activate(services, caller, key, digest, body)
        if type_ not in orders.ORDER_TYPES:
            raise OrderRejected(
                422, "invalid", f"'type' is one of activate, {', '.join(orders.ORDER_TYPES)}"
            )
        mid = _digits(body, "mid")
        params = {
            k: v for k, v in body.items() if k in ("esn", "old_handset", "rate_plan", "reason")
        }
        try:
            placed = line_orders.place(
                services,
                mid,
                type_,
                params,
                channel="api",
                placed_by=f"partner {caller.partner}",
                api_key_id=caller.api_key_id,
                idempotency_key=key,
                request_hash=digest,
            )
        except LineRefused as refused:
            extra = {"order": refused.other} if refused.other else {}
            raise OrderRejected(
                LINE_STATUS.get(refused.kind, 409), refused.kind, str(refused), **extra
            ) from None
        return True, placed
    except IntegrityError:
        # The same key raced in at the same moment: the other request placed it.
        replay = _replay(services, caller, key, digest)
        if replay is None:
            raise
        return False, replay


def _replay(services: Services, caller: Caller, key: str, digest: str) -> OrderView | None:
    with services.db.read() as session:
        order = session.scalar(
            select(Order).where(Order.api_key_id == caller.api_key_id, Order.idempotency_key == key)
        )
        if order is None:
            return None
        if order.request_hash != digest:
            raise OrderRejected(
                409,
                "idempotency_conflict",
                f"Idempotency-Key {key!r} was used for another order ({order.code})",
                order=order.code,
            )
        return line_orders.view(session, order)


def _activate(
    services: Services, caller: Caller, key: str, digest: str, body: dict[str, Any]
) -> OrderView:
    """Open the whole activation at once and queue its credit check; the worker goes on."""
    agent_code = _digits(body, "agent")
    pin = _digits(body, "pin")
    esn = _digits(body, "esn", esn_problem)
    customer = body.get("customer")
    if not isinstance(customer, dict) or customer.get("kind") not in ("individual", "business"):
        raise OrderRejected(422, "invalid", "'customer' needs 'kind': individual or business")
    business = customer["kind"] == "business"
    tax_id = _digits(customer, "ssn", ein_problem if business else ssn_problem)
    plan_code = _digits(body, "rate_plan")
    npa_nxx = _digits(body, "npa_nxx", npa_nxx_problem)
    payment = body.get("deposit_payment")
    if payment not in (None, "cash", "check"):
        raise OrderRejected(422, "invalid", "'deposit_payment' is cash or check")
    try:
        named = order_salespeople.given(services, agent_code, body)
    except ValueError as wrong:
        raise OrderRejected(422, "invalid", str(wrong)) from None
    with services.db.read() as session:
        stored = session.scalar(select(Agent.pin_hash).where(Agent.agent_code == agent_code))
    # Slow the first time (before any lock); a PIN that matched before is remembered.
    matched = stored is not None and services.vault.verified_pins.check(pin, stored)
    pvs = ask_pvs(services, None, esn)
    if pvs is not None and pvs.listed is None:
        raise OrderRejected(503, "retry", f"the handset cannot be checked now ({pvs.failure})")
    if pvs is not None and pvs.listed:
        raise OrderRejected(422, "invalid", f"the handset {esn} is listed by the PVS")
    actor = f"partner {caller.partner}"
    with services.db.transaction() as session:
        outcome, agent = agents.log_on(
            session,
            agent_code,
            lambda now: matched if now == stored else services.vault.verified_pins.check(pin, now),
            max_failures=services.settings.max_login_failures,
            now=utcnow(),
            actor=actor,
        )
        refusal: OrderRejected | None
        person: Salesperson | str | None = None
        if outcome != Logon.OK or agent is None:
            problem = "is locked" if outcome == Logon.LOCKED else "and PIN do not match"
            refusal = OrderRejected(403, "logon", f"agent {agent_code} {problem}")
        else:
            person = order_salespeople.log_on(
                session, agent, named, services.settings.max_login_failures, actor
            )
            if isinstance(person, str):
                refusal = OrderRejected(403, "logon", person)
            else:
                refusal = _refusal(session, agent, person, esn, plan_code, npa_nxx)
        if refusal is None and agent is not None and not isinstance(person, str):
            order = _open(services, session, agent, caller, key, digest, body, tax_id, payment)
            if person is not None:  # the order's transaction records who sold it
                session.get_one(Transaction, order.transaction_id).salesperson_id = person.id
            return line_orders.view(session, order)
    assert refusal is not None
    raise refusal  # after the unit of work: a failed log-on still counts toward a lock


def _refusal(
    session: Any, agent: Agent, person: Salesperson | None, esn: str, plan_code: str, npa_nxx: str
) -> OrderRejected | None:
    """What the call's steps would refuse of these values, in the partner's words."""
    if orders.handset_in_service(session, esn):
        return OrderRejected(409, "invalid", f"the handset {esn} is already active")
    allowed = agent.restrictions or {}
    plan = session.get(RatePlan, plan_code)
    if plan is None or not plan.active or plan_code not in allowed.get("rate_plans", [plan_code]):
        return OrderRejected(422, "invalid", f"rate plan {plan_code} is not available")
    if numbers.serving_switch(session, npa_nxx) is None or npa_nxx not in allowed.get(
        "npa_nxx", [npa_nxx]
    ):
        return OrderRejected(422, "invalid", f"NPA-NXX {npa_nxx} is not served")
    sold_by = order_salespeople.restricted(person, plan_code, npa_nxx)
    if sold_by:
        return OrderRejected(422, "invalid", sold_by)
    if agent.unstocked_esn == "to_csr" and not stock.in_stock_of(session, esn, agent.id):
        why = f"the handset {esn} is not in agent {agent.agent_code}'s stock"
        return OrderRejected(422, "invalid", why)
    return None


def _open(
    services: Services,
    session: Any,
    agent: Agent,
    caller: Caller,
    key: str,
    digest: str,
    body: dict[str, Any],
    tax_id: str,
    payment: str | None,
) -> Order:
    vault = services.vault
    actor = f"partner {caller.partner}"
    tx = states.begin(session, orders.new_code(session), agent.id, actor, by_order=True)
    tx.esn, tx.rate_plan_code, tx.npa_nxx = body["esn"], body["rate_plan"], body["npa_nxx"]
    tx.customer_kind = body["customer"]["kind"]
    tx.ssn_encrypted, tx.ssn_hash = vault.encrypt(tax_id), vault.lookup_hash(tax_id)
    tx.ssn_last4, tx.deposit_method, tx.step = tax_id[-4:], payment, "credit_wait"
    order = Order(
        code=tx.code,
        type="activate",
        status=ACTIVATION_STATE[TxStatus.INCOMPLETE],
        transaction_id=tx.id,
        params={"esn": tx.esn, "rate_plan": tx.rate_plan_code, "npa_nxx": tx.npa_nxx},
        channel="api",
        placed_by=actor,
        api_key_id=caller.api_key_id,
        idempotency_key=key,
        request_hash=digest,
    )
    session.add(order)
    session.flush()
    if not stock.in_stock_of(session, tx.esn, agent.id):  # allowed, and noted as by phone
        states.note(session, tx, actor, f"ESN {tx.esn} not in the agent's stock")
    states.move(session, tx, Move.ASK_CREDIT, actor, "credit check asked")
    activities.enqueue(session, "credit_check", {}, target="bureau", transaction_id=tx.id)
    return order


def find(services: Services, caller: Caller, code: str) -> OrderView | None:
    """An order placed with a key of this partner's, by its id."""
    with services.db.read() as session:
        order = session.scalar(
            select(Order)
            .join(ApiKey, ApiKey.id == Order.api_key_id)
            .where(Order.code == code, ApiKey.partner_id == caller.partner_id)
        )
        return None if order is None else line_orders.view(session, order)
