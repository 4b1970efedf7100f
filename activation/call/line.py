"""The call's orders on an existing line: pick it by MID, choose the order, confirm, hear it done.

At the menu `##` leads here. The line is read back with its customer's name before anything
is asked; every order is read back and placed only on `1`; `0` reaches a CSR as everywhere.
The call then holds while the switch and billing carry the order out, like an activation's
assignment, and tells the agent the order's code if it takes longer than the switch's time.
"""

from __future__ import annotations

from sqlalchemy import select

from activation.call.context import Ctx, Step
from activation.call.customer import PvsAnswer, ask_pvs
from activation.call.outcomes import Outcome
from activation.call.salesperson import restriction
from activation.call.speech import digits, phone_number, say, status_words
from activation.inventory import stock
from activation.lifecycle import orders, states
from activation.lifecycle.orders import LineRefused
from activation.store.models import Agent, RatePlan, Transaction
from activation.store.orders import Order
from activation.validators import esn_problem

# The order menu's keys.
ORDER_KEYS = {
    "1": "change_esn",
    "2": "change_plan",
    "3": "suspend",
    "4": "restore",
    "5": "disconnect",
}
REASONS = {"1": "lost", "2": "stolen", "3": "non_payment"}


def _line(ctx: Ctx) -> Transaction:
    return ctx.require_tx()


def _draft(ctx: Ctx) -> dict[str, str]:
    return dict(ctx.call.order_draft or {})


def _keep(ctx: Ctx, **values: str) -> None:
    ctx.call.order_draft = {**_draft(ctx), **values}


def _line_mid(ctx: Ctx, entry: str) -> Outcome:
    tx = orders.find_line(ctx.session, entry)
    if tx is None:
        unknown = say("line_unknown", mid=phone_number(entry))
        return ctx.fail("line_mid", "no line in service with that number", unknown)
    ctx.call.transaction = tx
    ctx.call.order_draft = {}
    return ctx.prompt("line_confirm")


def _line_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    tx = _line(ctx)
    plan = ctx.session.get(RatePlan, tx.rate_plan_code) if tx.rate_plan_code else None
    return (
        say(
            "line_confirm",
            mid=phone_number(tx.mid or ""),
            name=tx.bureau_name or "",
            esn=digits(tx.esn or "", (3, 4)),
            plan=plan.name if plan else tx.rate_plan_code or "",
            status=status_words(tx.status),
        ),
    )


def _line_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        ctx.call.transaction = None
        return ctx.prompt("line_mid")
    return ctx.prompt("order_menu")


def _order_menu(ctx: Ctx, entry: str) -> Outcome:
    type_ = ORDER_KEYS[entry]
    ctx.call.order_draft = {"type": type_}
    if type_ == "change_esn":
        return ctx.prompt("order_esn")
    if type_ == "change_plan":
        return ctx.prompt("order_plan")
    if type_ == "suspend":
        return ctx.prompt("order_reason")
    return ctx.prompt("order_confirm")


def _order_esn(ctx: Ctx, entry: str) -> Outcome:
    pvs = ctx.checked if isinstance(ctx.checked, PvsAnswer) and ctx.checked.esn == entry else None
    pvs = pvs or ask_pvs(ctx.services, ctx.call, entry)
    spoken = digits(entry)
    if pvs is None or pvs.listed is None:
        why = pvs.failure if pvs else "not asked"
        reason = f"PVS did not answer: {why}"
        return ctx.transfer(reason, say("pvs_unavailable", esn=spoken), kind="handset")
    if pvs.listed:
        return ctx.fail("order_esn", "ESN listed by PVS", say("esn_listed", esn=spoken))
    _keep(ctx, esn=entry)
    agent = ctx.session.get(Agent, ctx.call.agent_id) if ctx.call.agent_id else None
    if agent is not None and not stock.in_stock_of(ctx.session, entry, agent.id):
        if agent.unstocked_esn == "to_csr":
            heard = say("esn_unstocked_csr", esn=spoken)
            return ctx.transfer("ESN not in the agent's stock", heard, kind="handset")
        states.note(ctx.session, _line(ctx), "ivr", f"new ESN {entry} not in the agent's stock")
        return ctx.prompt("order_old_handset", say("esn_unstocked_noted", esn=spoken))
    return ctx.prompt("order_old_handset")


def _order_old_handset(ctx: Ctx, entry: str) -> Outcome:
    _keep(ctx, old_handset="stock" if entry == "1" else "lost")
    return ctx.prompt("order_confirm")


def _order_plan(ctx: Ctx, entry: str) -> Outcome:
    plan = ctx.session.get(RatePlan, entry)
    agent = ctx.session.get(Agent, ctx.call.agent_id) if ctx.call.agent_id else None
    allowed = (agent.restrictions or {}).get("rate_plans") if agent else None
    if plan is None or not plan.active or (allowed and entry not in allowed):
        return ctx.fail(
            "order_plan", "rate plan not available", say("rate_plan_unknown", code=digits(entry))
        )
    person = restriction(ctx, "rate_plans", entry)
    if person is not None:
        heard = say("rate_plan_not_yours", code=digits(entry), name=person.name)
        return ctx.fail("order_plan", "rate plan not the salesperson's to sell", heard)
    _keep(ctx, rate_plan=entry)
    return ctx.prompt("order_confirm")


def _order_reason(ctx: Ctx, entry: str) -> Outcome:
    _keep(ctx, reason=REASONS[entry])
    return ctx.prompt("order_confirm")


def _order_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    draft, tx = _draft(ctx), _line(ctx)
    mid = phone_number(tx.mid or "")
    type_ = draft.get("type", "")
    if type_ == "change_esn":
        fate = say("fate_stock" if draft.get("old_handset") == "stock" else "fate_lost")
        what = say("order_change_esn", mid=mid, esn=digits(draft.get("esn", ""), (3, 4)), fate=fate)
    elif type_ == "change_plan":
        plan = ctx.session.get(RatePlan, draft.get("rate_plan", ""))
        what = say("order_change_plan", mid=mid, plan=plan.name if plan else "")
    elif type_ == "suspend":
        what = say("order_suspend", mid=mid, reason=say(f"reason_{draft.get('reason', 'lost')}"))
    elif type_ == "restore":
        what = say("order_restore", mid=mid)
    else:
        days = str(ctx.services.settings.number_aging_days)
        what = say("order_disconnect", mid=mid, days=days)
    return (what, say("order_confirm"))


def _order_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        return ctx.prompt("order_menu")
    draft, tx = _draft(ctx), _line(ctx)
    type_ = draft.pop("type", "")
    agent = f"agent {ctx.call.agent_code}"
    try:
        order = orders.place(ctx.session, tx, type_, draft, channel="phone", placed_by=agent)
    except LineRefused as refused:
        return ctx.prompt("order_menu", say("order_refused", why=str(refused)))
    ctx.call.order_draft = {"order": order.code}
    ctx.call.hold_started_at = None
    return ctx.hold("order_wait", say("order_placed", code=digits(order.code)))


def _placed(ctx: Ctx) -> Order:
    code = _draft(ctx).get("order", "")
    order = ctx.session.scalar(select(Order).where(Order.code == code))
    if order is None:
        raise LookupError(f"call {ctx.call.call_sid} holds for no order")
    return order


def _order_wait(ctx: Ctx, entry: str) -> Outcome:
    order = _placed(ctx)
    if order.status == "completed":
        ctx.call.hold_started_at = None
        return ctx.prompt("order_done", say("order_complete"))
    if order.status in ("held", "failed"):
        reason = f"order {order.code}: {order.failure or order.status}"
        return ctx.transfer(reason, kind="order")
    waited = (ctx.now - (ctx.call.hold_started_at or ctx.now)).total_seconds()
    if waited >= ctx.services.settings.switch_deadline:
        ctx.call.hold_started_at = None
        return ctx.prompt("order_done", say("order_pending", code=digits(order.code)))
    return ctx.hold("order_wait")


def _order_done(ctx: Ctx, entry: str) -> Outcome:
    if entry == "1":
        tx = _line(ctx)
        states.lock(ctx.session, tx.id)
        if tx.mid is None:  # disconnected: no line to order on any more
            return ctx.prompt("menu")
        return ctx.prompt("order_menu")
    return ctx.hangup(say("goodbye"))


LINE_STEPS = [
    Step(
        "line_mid",
        lambda ctx: (say("line_mid"),),
        _line_mid,
        max_digits=10,
        min_digits=10,
        wrong="line_mid_wrong",
        label="line's number",
    ),
    Step("line_confirm", _line_confirm_prompt, _line_confirm, choices="12"),
    Step("order_menu", lambda ctx: (say("order_menu"),), _order_menu, choices="12345"),
    Step(
        "order_esn",
        lambda ctx: (say("esn"),),
        _order_esn,
        max_digits=15,
        min_digits=11,
        validate=lambda ctx, entry: esn_problem(entry),
        precheck=ask_pvs,
        wrong="esn_wrong",
        label="new ESN",
    ),
    Step(
        "order_old_handset",
        lambda ctx: (say("order_old_handset"),),
        _order_old_handset,
        choices="12",
    ),
    Step(
        "order_plan",
        lambda ctx: (say("rate_plan"),),
        _order_plan,
        max_digits=4,
        wrong="plan_wrong",
        label="new rate plan",
    ),
    Step("order_reason", lambda ctx: (say("order_reason"),), _order_reason, choices="123"),
    Step("order_confirm", _order_confirm_prompt, _order_confirm, choices="12"),
    Step("order_wait", lambda ctx: (say("order_hold"),), _order_wait, hold=True),
    Step("order_done", lambda ctx: (say("order_done"),), _order_done, choices="12"),
]
