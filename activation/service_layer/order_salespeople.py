"""The salesperson of a partner's activate order: the same rules as the call's log-on.

An agent with salespeople (who may log on) needs `salesperson` and `salesperson_pin`; a wrong
pair counts toward that salesperson's lock, as on the phone; the salesperson's restrictions
(rate plans, NPA-NXX) apply on top of the agent's. The PIN is hashed before any lock is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.call.salesperson import has_salespeople
from activation.keyed import is_digits
from activation.secrets import check_pin
from activation.services import Services
from activation.store import audit
from activation.store.models import Agent
from activation.store.salespeople import Salesperson


@dataclass(frozen=True)
class Given:
    """The salesperson an order names, and whether the PIN matched the hash it was checked on."""

    code: str
    pin: str
    checked_hash: str | None
    matched: bool


def given(services: Services, agent_code: str, body: dict[str, Any]) -> Given | None:
    """Read the body's salesperson and check the PIN (slow: before any lock); ValueError says
    what is wrong with the fields."""
    code, pin = body.get("salesperson"), body.get("salesperson_pin")
    if code is None and pin is None:
        return None
    if not (isinstance(code, str) and is_digits(code, 1, 8)):
        raise ValueError("'salesperson' is 1 to 8 digits, given with 'salesperson_pin'")
    if not (isinstance(pin, str) and is_digits(pin, 4, 8)):
        raise ValueError("'salesperson_pin' is 4 to 8 digits, given with 'salesperson'")
    with services.db.read() as session:
        stored = session.scalar(
            select(Salesperson.pin_hash)
            .join(Agent, Agent.id == Salesperson.agent_id)
            .where(Agent.agent_code == agent_code, Salesperson.code == code, Salesperson.may_log_on)
        )
    return Given(code, pin, stored, stored is not None and check_pin(pin, stored))


def log_on(
    session: Session, agent: Agent, named: Given | None, max_failures: int, actor: str
) -> Salesperson | str | None:
    """The order's salesperson once logged on, or why not (None: the agent sells alone)."""
    if named is None:
        if has_salespeople(session, agent.id):
            return (
                f"agent {agent.agent_code} sells through salespeople: "
                "give salesperson and salesperson_pin"
            )
        return None
    person = session.scalar(
        select(Salesperson)
        .where(
            Salesperson.agent_id == agent.id,
            Salesperson.code == named.code,
            Salesperson.may_log_on,
        )
        .with_for_update()
    )
    if person is None:
        return "that salesperson ID and PIN do not match"
    if person.locked:
        return f"salesperson {person.code} of agent {agent.agent_code} is locked"
    matched = named.matched
    if person.pin_hash != named.checked_hash:  # changed since it was checked: check again
        matched = check_pin(named.pin, person.pin_hash)
    if matched:
        person.failed_attempts = 0
        return person
    person.failed_attempts += 1
    if person.failed_attempts >= max_failures:
        person.locked = True
        who = f"{agent.agent_code}/{person.code}"
        audit.record(session, "salesperson", who, "active", "locked", actor, "log-ons")
    return "that salesperson ID and PIN do not match"


def restricted(person: Salesperson | None, plan_code: str, npa_nxx: str) -> str | None:
    """What the salesperson may not sell of this order, in the partner's words."""
    if person is None:
        return None
    allowed = person.restrictions or {}
    if plan_code not in allowed.get("rate_plans", [plan_code]):
        return f"rate plan {plan_code} is not one salesperson {person.name} may sell"
    if npa_nxx not in allowed.get("npa_nxx", [npa_nxx]):
        return f"salesperson {person.name} may not sell numbers in NPA-NXX {npa_nxx}"
    return None
