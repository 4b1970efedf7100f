"""Steps 7-9 of the call: the rate plan, the NPA-NXX, and the number on the switch."""

from __future__ import annotations

from sqlalchemy import select

from activation.call.context import Ctx, Step
from activation.call.login import resume
from activation.call.outcomes import Outcome
from activation.call.salesperson import restriction
from activation.call.speech import digits, dollars, phone_number, say
from activation.lifecycle import assignment, numbers, states
from activation.lifecycle.states import Move, MoveRefused, TxStatus
from activation.queue import activities
from activation.store.models import Activity, RatePlan
from activation.validators import npa_nxx_problem


def _rate_plan(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    plan = ctx.session.get(RatePlan, entry)
    allowed = (tx.agent.restrictions or {}).get("rate_plans")
    if plan is None or not plan.active or (allowed and entry not in allowed):
        return ctx.fail(
            "rate_plan",
            f"rate plan {entry} not available",
            say("rate_plan_unknown", code=digits(entry)),
        )
    person = restriction(ctx, "rate_plans", entry)
    if person is not None:
        heard = say("rate_plan_not_yours", code=digits(entry), name=person.name)
        return ctx.fail("rate_plan", "rate plan not the salesperson's to sell", heard)
    tx.rate_plan_code = plan.code
    return ctx.prompt("plan_confirm")


def _plan_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    plan = ctx.session.get(RatePlan, ctx.require_tx().rate_plan_code or "")
    if plan is None:  # taken out of the table meanwhile: _plan_confirm asks again
        return (say("rate_plan"),)
    price = dollars(plan.monthly_cents)
    return (say("plan_confirm", code=digits(plan.code), name=plan.name, price=price),)


def _plan_confirm(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    if entry == "2" or ctx.session.get(RatePlan, tx.rate_plan_code or "") is None:
        tx.rate_plan_code = None
        return ctx.prompt("rate_plan")
    return ctx.prompt("npa_nxx")


def _npa_nxx(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    allowed = (tx.agent.restrictions or {}).get("npa_nxx")
    if numbers.serving_switch(ctx.session, entry) is None or (allowed and entry not in allowed):
        return ctx.fail(
            "npa_nxx",
            f"{entry} not served",
            say("npa_nxx_unserved", digits=digits(entry, (3,))),
        )
    person = restriction(ctx, "npa_nxx", entry)
    if person is not None:
        heard = say("npa_nxx_not_yours", digits=digits(entry, (3,)), name=person.name)
        return ctx.fail("npa_nxx", "NPA-NXX not the salesperson's to sell", heard)
    tx.npa_nxx = entry
    return ctx.prompt("npa_confirm")


def _npa_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    return (say("npa_nxx_confirm", digits=digits(ctx.require_tx().npa_nxx or "", (3,))),)


def _npa_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        return ctx.prompt("npa_nxx")
    tx = ctx.require_tx()
    switch = numbers.serving_switch(ctx.session, tx.npa_nxx or "")
    if switch is None:
        return ctx.fail(
            "npa_nxx",
            "NPA-NXX not served",
            say("npa_nxx_unserved", digits=digits(tx.npa_nxx or "", (3,))),
        )
    try:
        mid = assignment.claim(ctx.session, tx, switch, "ivr")
    except MoveRefused:
        return resume(ctx, tx)  # another session claimed first: hear where it stands
    if mid is None:
        return ctx.transfer(
            assignment.NO_NUMBER,
            say("npa_nxx_full", digits=digits(tx.npa_nxx or "", (3,))),
            kind="no_number",
        )
    ctx.call.hold_started_at = None
    return ctx.hold("assign_wait")


def _assign_wait(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    if tx.status == TxStatus.ACTIVE and tx.mid:
        ctx.call.hold_started_at = None
        return ctx.prompt("mid")
    if tx.status not in (TxStatus.ASSIGNING, TxStatus.DELAYED):
        if tx.status == TxStatus.ESCALATED:
            reason = tx.escalation_reason or "switch refused"
            return ctx.transfer(reason, say("switch_refused"), kind="switch")
        return resume(ctx, tx)
    waited = (ctx.now - (ctx.call.hold_started_at or ctx.now)).total_seconds()
    if waited >= ctx.services.settings.switch_deadline:
        ctx.call.hold_started_at = None
        if states.allowed(tx.status, Move.SWITCH_LATE):
            states.move(ctx.session, tx, Move.SWITCH_LATE, "ivr", "switch did not answer in time")
        return ctx.prompt("delayed")
    return ctx.hold("assign_wait")


def _delayed(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    if tx.status == TxStatus.ACTIVE and tx.mid:
        return ctx.prompt("mid")
    if entry == "1":
        pending = ctx.session.scalars(
            select(Activity.id).where(
                Activity.transaction_id == tx.id,
                Activity.type == "switch_insert",
                Activity.state.in_(("pending", "failed")),
            )
        )
        for activity_id in pending:
            activities.hurry(ctx.session, activity_id)
        ctx.call.hold_started_at = None
        return ctx.hold("assign_wait")
    code = digits(tx.code)
    if entry == "3":
        tx.callback_requested = True
        states.note(ctx.session, tx, "ivr", "call-back requested")
        return ctx.hangup(say("call_back", code=code))
    return ctx.hangup(say("call_later", code=code))


def _mid_prompt(ctx: Ctx) -> tuple[str, ...]:
    return (say("mid", mid=phone_number(ctx.require_tx().mid or "")),)


def _mid(ctx: Ctx, entry: str) -> Outcome:
    if entry == "1":
        return ctx.prompt("mid")
    return ctx.hangup(say("goodbye"))


NUMBER_STEPS = [
    Step(
        "rate_plan",
        lambda ctx: (say("rate_plan"),),
        _rate_plan,
        max_digits=4,
        wrong="plan_wrong",
        label="rate plan",
    ),
    Step(
        "plan_confirm",
        _plan_confirm_prompt,
        _plan_confirm,
        choices="12",
        label="rate plan read-back",
    ),
    Step(
        "npa_nxx",
        lambda ctx: (say("npa_nxx"),),
        _npa_nxx,
        max_digits=6,
        min_digits=6,
        validate=lambda ctx, entry: npa_nxx_problem(entry),
        wrong="npa_nxx_wrong",
        label="NPA-NXX",
    ),
    Step("npa_confirm", _npa_confirm_prompt, _npa_confirm, choices="12", label="NPA-NXX read-back"),
    Step(
        "assign_wait",
        lambda ctx: (say("assign_hold"),),
        _assign_wait,
        hold=True,
        label="number on the switch",
    ),
    Step("delayed", lambda ctx: (say("delayed"),), _delayed, choices="123", label="delayed"),
    Step("mid", _mid_prompt, _mid, choices="12", label="new number"),
]
