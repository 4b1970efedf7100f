"""An agent's stock settings (admin): what an ESN not in its stock does, and per product the
minimum and re-order quantity; and the agent's salespeople: added, restricted, given a new PIN
(each PIN shown once, never audited) and their log-on taken away or given back."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.inventory import reorders
from activation.keyed import is_digits
from activation.lifecycle import numbers
from activation.secrets import hash_pin
from activation.service_layer.csr import NotFound, Refused
from activation.services import Services
from activation.store import audit
from activation.store.inventory import Product, StockLevel
from activation.store.models import Agent, RatePlan
from activation.store.salespeople import Salesperson

UNSTOCKED_CHOICES = ("allow_and_note", "to_csr")
MOST = 9999


def _agent(session: Session, code: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.agent_code == code).with_for_update())
    if agent is None:
        raise NotFound(f"No agent {code}.")
    return agent


def set_unstocked(services: Services, code: str, choice: str, actor: str) -> str:
    """Say what a call does with an ESN not in the agent's stock."""
    if choice not in UNSTOCKED_CHOICES:
        raise Refused("An ESN not in stock is either allowed and noted, or sent to a CSR.")
    with services.db.transaction() as session:
        agent = _agent(session, code)
        old, agent.unstocked_esn = agent.unstocked_esn, choice
        audit.record(session, "agent", code, old, choice, actor, "ESN not in stock")
    return f"Agent {code}: an ESN not in stock is {choice.replace('_', ' ')}."


def set_level(
    services: Services, code: str, product: str, minimum: str, quantity: str, actor: str
) -> str:
    """Set the agent's minimum and re-order quantity of a product (and re-order if short)."""
    if not (is_digits(minimum, 1, 4) and is_digits(quantity, 1, 4)):
        raise Refused(f"The minimum and the re-order quantity are whole numbers, 0 to {MOST}.")
    with services.db.transaction() as session:
        agent = _agent(session, code)
        if session.get(Product, product) is None:
            raise Refused(f"No product {product}.")
        level = session.scalar(
            select(StockLevel)
            .where(StockLevel.agent_id == agent.id, StockLevel.product_code == product)
            .with_for_update()
        )
        if level is None:
            level = StockLevel(agent_id=agent.id, product_code=product)
            session.add(level)
        level.minimum, level.reorder_quantity = int(minimum), int(quantity)
        detail = f"{product}: minimum {minimum}, re-order {quantity}"
        audit.record(session, "agent", code, None, "stock level", actor, detail)
        session.flush()
        reorders.check(session, agent.id, product, actor)
    return f"Agent {code}, {product}: minimum {int(minimum)}, re-order {int(quantity)}."


def add_salesperson(
    services: Services, code: str, salesperson: str, name: str, pin: str, actor: str
) -> str:
    """Add a salesperson under an agent; return the PIN to hand over (shown once)."""
    salesperson, name, pin = salesperson.strip(), name.strip(), pin.strip()
    if not is_digits(salesperson, 1, 8):
        raise Refused("A salesperson ID is 1 to 8 digits.")
    if not name:
        raise Refused("Give the salesperson's name.")
    if pin and not is_digits(pin, 4, 8):
        raise Refused("A PIN is 4 to 8 digits.")
    pin = pin or f"{secrets.randbelow(10**6):06d}"
    with services.db.transaction() as session:
        agent = _agent(session, code)
        taken = session.scalar(
            select(Salesperson.id).where(
                Salesperson.agent_id == agent.id, Salesperson.code == salesperson
            )
        )
        if taken is not None:
            raise Refused(f"Agent {code} has a salesperson {salesperson} already.")
        session.add(
            Salesperson(
                agent_id=agent.id,
                code=salesperson,
                name=name[:80],
                pin_hash=hash_pin(pin),
                restrictions={},
            )
        )
        audit.record(session, "salesperson", f"{code}/{salesperson}", None, "active", actor)
    return pin


def _salesperson(session: Session, code: str, salesperson: str) -> tuple[Agent, Salesperson]:
    agent = _agent(session, code)
    person = session.scalar(
        select(Salesperson)
        .where(Salesperson.agent_id == agent.id, Salesperson.code == salesperson)
        .with_for_update()
    )
    if person is None:
        raise NotFound(f"Agent {code} has no salesperson {salesperson[:8]}.")
    return agent, person


def _codes(text: str) -> list[str]:
    """Codes keyed as a list: commas or spaces between them, each once, in order."""
    return list(dict.fromkeys(text.replace(",", " ").split()))


def set_restrictions(
    services: Services, code: str, salesperson: str, rate_plans: str, npa_nxx: str, actor: str
) -> str:
    """Say which rate plans and NPA-NXX a salesperson may sell (empty: whatever the agent may)."""
    plans, blocks = _codes(rate_plans), _codes(npa_nxx)
    with services.db.transaction() as session:
        agent, person = _salesperson(session, code, salesperson)
        unknown = [p for p in plans if session.get(RatePlan, p) is None]
        if unknown:
            raise Refused(f"No rate plan {', '.join(unknown)[:60]}.")
        unserved = [
            b
            for b in blocks
            if not is_digits(b, 6, 6) or numbers.serving_switch(session, b) is None
        ]
        if unserved:
            raise Refused(f"No switch of this CAS serves NPA-NXX {', '.join(unserved)[:60]}.")
        restrictions = {
            kind: values for kind, values in (("rate_plans", plans), ("npa_nxx", blocks)) if values
        }
        person.restrictions = restrictions
        said = _restrictions_said(restrictions)
        who = f"{code}/{person.code}"
        audit.record(session, "salesperson", who, None, "restrictions", actor, said)
    return f"Salesperson {person.code} of agent {agent.agent_code} may sell {said}."


def _restrictions_said(restrictions: dict[str, list[str]]) -> str:
    if not restrictions:
        return "what the agent may"
    words = {"rate_plans": "rate plans", "npa_nxx": "NPA-NXX"}
    return "; ".join(f"{words[k]} {', '.join(v)}" for k, v in restrictions.items())


def new_pin(services: Services, code: str, salesperson: str, pin: str, actor: str) -> str:
    """Give a salesperson a new PIN (and lift a lock); return it, to hand over once."""
    pin = pin.strip()
    if pin and not is_digits(pin, 4, 8):
        raise Refused("A PIN is 4 to 8 digits.")
    pin = pin or f"{secrets.randbelow(10**6):06d}"
    pin_hash = hash_pin(pin)  # slow: before any lock
    with services.db.transaction() as session:
        _agent_row, person = _salesperson(session, code, salesperson)
        was = "locked" if person.locked else "active"
        person.pin_hash, person.failed_attempts, person.locked = pin_hash, 0, False
        audit.record(
            session, "salesperson", f"{code}/{person.code}", was, "active", actor, "new PIN"
        )
    return pin


def set_log_on(services: Services, code: str, salesperson: str, allowed: bool, actor: str) -> str:
    """Take a salesperson's log-on away, or give it back."""
    with services.db.transaction() as session:
        _agent_row, person = _salesperson(session, code, salesperson)
        old = "log-on" if person.may_log_on else "no log-on"
        person.may_log_on = allowed
        new = "log-on" if allowed else "no log-on"
        audit.record(session, "salesperson", f"{code}/{person.code}", old, new, actor)
    if allowed:
        return f"Salesperson {person.code} of agent {code} may log on again."
    return f"Salesperson {person.code} of agent {code} may no longer log on."


def salespeople(services: Services, code: str) -> list[Salesperson]:
    """The agent's salespeople, by ID."""
    with services.db.read() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == code))
        if agent is None:
            return []
        return list(
            session.scalars(
                select(Salesperson)
                .where(Salesperson.agent_id == agent.id)
                .order_by(Salesperson.code)
            )
        )


def levels(services: Services, code: str) -> list[tuple[str, int, int]]:
    """The agent's stock levels: (product, minimum, re-order quantity), by product."""
    with services.db.read() as session:
        rows = session.execute(
            select(StockLevel.product_code, StockLevel.minimum, StockLevel.reorder_quantity)
            .join(Agent, Agent.id == StockLevel.agent_id)
            .where(Agent.agent_code == code)
            .order_by(StockLevel.product_code)
        ).all()
        return [(p, m, q) for p, m, q in rows]


def products(services: Services) -> list[str]:
    """Every product code."""
    with services.db.read() as session:
        return list(session.scalars(select(Product.code).order_by(Product.code)))
