"""The salesperson's log-on after the agent's, and what a salesperson may sell.

An agent with salespeople hears "salesperson I D" once its own PIN matches; the salesperson
keys an ID and PIN of their own (hashed like agents' PINs). A wrong pair is asked again
once, then the call goes to a CSR; a salesperson's failures lock that salesperson, not the
agent. A salesperson whose log-on an admin took away is as unknown, and does not count: an
agent left with none logs on alone. Every transaction the call opens records its
salesperson, and the salesperson's restrictions (rate plans, NPA-NXX) apply on top of the
agent's.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.call.context import Ctx, Step
from activation.call.outcomes import Outcome
from activation.call.speech import say
from activation.secrets import check_pin
from activation.services import Services
from activation.store import audit
from activation.store.models import Call
from activation.store.salespeople import Salesperson


def has_salespeople(session: Session, agent_id: int) -> bool:
    """Tell whether the agent sells through salespeople (who then log on too)."""
    found = select(Salesperson.id).where(Salesperson.agent_id == agent_id, Salesperson.may_log_on)
    with session.no_autoflush:  # what is pending (the agent's log-on) does not change it
        return session.scalar(found.limit(1)) is not None


def _find(session: Session, agent_id: int | None, code: str | None) -> Salesperson | None:
    return session.scalar(
        select(Salesperson).where(
            Salesperson.agent_id == agent_id, Salesperson.code == code, Salesperson.may_log_on
        )
    )


def _salesperson_id(ctx: Ctx, entry: str) -> Outcome:
    ctx.call.salesperson_code = entry
    return ctx.prompt("salesperson_pin")


def _check(services: Services, call: Call, entry: str) -> tuple[str, bool] | None:
    """Hash the keyed PIN outside any lock: (the hash checked against, whether it matched)."""
    with services.db.read() as session:
        person = _find(session, call.agent_id, call.salesperson_code)
        return None if person is None else (person.pin_hash, check_pin(entry, person.pin_hash))


def _salesperson_pin(ctx: Ctx, entry: str) -> Outcome:
    call = ctx.call
    person = _find(ctx.session, call.agent_id, call.salesperson_code)
    matched = False
    if person is not None:
        checked = ctx.checked
        if isinstance(checked, tuple) and checked[0] == person.pin_hash:
            matched = bool(checked[1])
        else:
            matched = check_pin(entry, person.pin_hash)
    if person is not None and person.locked:
        return ctx.transfer("salesperson locked", say("agent_locked"), kind="agent_log_on")
    if person is not None and matched:
        person.failed_attempts = 0
        call.salesperson_id = person.id
        return ctx.prompt("menu", say("logged_on", name=person.name))
    if person is not None:
        person.failed_attempts += 1
        if person.failed_attempts >= ctx.services.settings.max_login_failures:
            person.locked = True
            who = f"{call.agent_code}/{person.code}"
            audit.record(ctx.session, "salesperson", who, "active", "locked", "ivr", "log-ons")
    call.login_failures += 1
    if call.login_failures >= 2:
        heard = say("salesperson_failed")
        return ctx.transfer("salesperson log-on failed twice", heard, kind="agent_log_on")
    return ctx.prompt("salesperson_id", say("salesperson_failed"))


def restriction(ctx: Ctx, kind: str, entry: str) -> Salesperson | None:
    """The call's salesperson when their restrictions of this kind leave `entry` out."""
    tx = ctx.tx
    person_id = ctx.call.salesperson_id or (tx.salesperson_id if tx else None)
    person = ctx.session.get(Salesperson, person_id) if person_id else None
    allowed = (person.restrictions or {}).get(kind) if person else None
    return person if allowed and entry not in allowed else None


SALESPERSON_STEPS = [
    Step(
        "salesperson_id",
        lambda ctx: (say("salesperson_id"),),
        _salesperson_id,
        max_digits=8,
        wrong="salesperson_id_wrong",
    ),
    Step(
        "salesperson_pin",
        lambda ctx: (say("salesperson_pin"),),
        _salesperson_pin,
        max_digits=8,
        min_digits=4,
        precheck=_check,
        wrong="pin_wrong",
    ),
]
