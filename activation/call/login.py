"""Steps 1-3 of the call: agent log-on, the menu, and the new Transaction Code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from activation.call.context import Ctx, Step
from activation.call.outcomes import Outcome
from activation.call.salesperson import has_salespeople
from activation.call.speech import (
    digits,
    language,
    phone_number,
    say,
    say_in,
    speaking,
    status_words,
)
from activation.lifecycle import agents, states
from activation.lifecycle.agents import Logon
from activation.lifecycle.states import RESUMABLE, Move, TxStatus
from activation.secrets import hash_pin, pin_hash_outdated
from activation.services import Services
from activation.store.models import Activity, Agent, Call, Transaction


def _agent_id_prompt(ctx: Ctx) -> tuple[str, ...]:
    # The other language is offered in its own words and voice.
    if language() == "en":
        return (say("agent_id"), say_in("es", "choose_spanish"))
    return (say("agent_id"), say_in("en", "choose_english"))


def _agent_id(ctx: Ctx, entry: str) -> Outcome:
    ctx.call.agent_code = entry
    return ctx.prompt("pin")


@dataclass(frozen=True)
class PinChecked:
    """A keyed PIN checked outside any lock: against which hash, whether it matched, and a
    hash of today's strength to keep in place of an outdated one that matched."""

    stored: str
    matched: bool
    rehashed: str | None = None


def _matches(services: Services, entry: str, stored: str) -> bool:
    return services.vault.verified_pins.check(entry, stored)


def _check_pin(services: Services, call: Call, entry: str) -> PinChecked | None:
    """Hash the keyed PIN outside any lock (and, once, a stronger hash of it to keep)."""
    with services.db.read() as session:
        stored = session.scalar(select(Agent.pin_hash).where(Agent.agent_code == call.agent_code))
    if stored is None:
        return None
    matched = _matches(services, entry, stored)
    rehashed = hash_pin(entry) if matched and pin_hash_outdated(stored) else None
    return PinChecked(stored, matched, rehashed)


def _pin(ctx: Ctx, entry: str) -> Outcome:
    call = ctx.call
    checked = ctx.checked if isinstance(ctx.checked, PinChecked) else None

    def matches(stored: str) -> bool:
        if checked is not None and checked.stored == stored:
            return checked.matched
        return _matches(ctx.services, entry, stored)  # the PIN changed meanwhile

    outcome, agent = agents.log_on(
        ctx.session,
        call.agent_code or "",
        matches,
        max_failures=ctx.services.settings.max_login_failures,
        now=ctx.now,
        actor="ivr",
    )
    if outcome == Logon.LOCKED:
        return ctx.transfer("agent locked", say("agent_locked"), kind="agent_log_on")
    if outcome == Logon.OK and agent is not None:
        if checked is not None and checked.rehashed and checked.stored == agent.pin_hash:
            agent.pin_hash = checked.rehashed
        call.agent_id = agent.id
        if call.language is None:  # no key chose one: the agent's own
            call.language = agent.language
        with speaking(call.language):
            # The call-back's flow has no salesperson step: the agent's log-on is enough there.
            if "salesperson_id" in ctx.steps and has_salespeople(ctx.session, agent.id):
                call.login_failures = 0
                return ctx.prompt("salesperson_id", say("logged_on", name=agent.name))
            return ctx.prompt("menu", say("logged_on", name=agent.name))
    call.login_failures += 1
    if call.login_failures >= 2:
        return ctx.transfer("log-on failed twice", say("login_failed"), kind="agent_log_on")
    return ctx.prompt("agent_id", say("login_failed"))


def _menu(ctx: Ctx, entry: str) -> Outcome:
    if entry == "#":
        _new_transaction(ctx)
        return ctx.prompt("tx_code")
    if entry == "##":  # an order on a line already in service
        ctx.call.transaction = None
        return ctx.prompt("line_mid")
    tx = ctx.session.scalar(
        select(Transaction).where(
            Transaction.code == entry, Transaction.agent_id == ctx.call.agent_id
        )
    )
    if tx is None:
        return ctx.fail(
            "menu", f"transaction {entry} not found", say("tx_not_found", code=digits(entry))
        )
    return resume(ctx, tx)


def _new_transaction(ctx: Ctx) -> Transaction:
    while True:
        code = f"{secrets.randbelow(90_000_000) + 10_000_000}"
        if ctx.session.scalar(select(Transaction.id).where(Transaction.code == code)) is None:
            break
    assert ctx.call.agent_id is not None
    tx = states.begin(ctx.session, code, ctx.call.agent_id, "ivr", ctx.call.salesperson_id)
    ctx.call.transaction = tx
    return tx


def resume(ctx: Ctx, tx: Transaction) -> Outcome:
    """Tell where a transaction stands and take it up where it stopped, if it can be.

    The call's steps end here too when another session moved the transaction first.
    """
    code = digits(tx.code)
    if tx.status == TxStatus.ACTIVE and tx.mid:
        ctx.call.transaction = tx
        return ctx.prompt("mid", say("tx_active", code=code, mid=phone_number(tx.mid)))
    if tx.status in (TxStatus.ASSIGNING, TxStatus.DELAYED):
        ctx.call.transaction = tx
        return ctx.prompt("delayed", say("tx_pending", code=code))
    if tx.status in RESUMABLE:
        if tx.status == TxStatus.ABANDONED:
            checking = ctx.session.scalar(
                select(Activity.id).where(
                    Activity.transaction_id == tx.id,
                    Activity.type == "credit_check",
                    Activity.state.in_(("pending", "running", "failed")),
                )
            )
            again = Move.RESUME_CHECKING if checking is not None else Move.RESUME
            states.move(ctx.session, tx, again, "ivr", "taken up again by a caller")
        ctx.call.transaction = tx
        ctx.call.hold_started_at = None
        return ctx.prompt(tx.step, say("tx_resume", code=code))
    return ctx.prompt("menu", say("tx_closed", code=code, status=status_words(tx.status)))


def _tx_code(ctx: Ctx, entry: str) -> Outcome:
    if entry == "1":
        return ctx.prompt("tx_code")
    return ctx.prompt("esn")


def _tx_code_prompt(ctx: Ctx) -> tuple[str, ...]:
    return (say("tx_code", code=digits(ctx.require_tx().code)),)


LOGIN_STEPS = [
    Step(
        "agent_id",
        _agent_id_prompt,
        _agent_id,
        max_digits=8,
        wrong="agent_id_wrong",
        label="agent ID",
        star_switches_language=True,
    ),
    Step(
        "pin",
        lambda ctx: (say("pin"),),
        _pin,
        max_digits=8,
        min_digits=4,
        precheck=_check_pin,
        wrong="pin_wrong",
        label="PIN",
    ),
    Step(
        "menu",
        lambda ctx: (say("menu"),),
        _menu,
        max_digits=8,
        min_digits=8,
        timeout=4,
        pound_is_answer=True,
        wrong="menu_wrong",
        label="menu",
    ),
    Step("tx_code", _tx_code_prompt, _tx_code, choices="12", label="transaction code"),
]
