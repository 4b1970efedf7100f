"""An agent's stock settings (admin): what an ESN not in its stock does, and per product the
minimum and re-order quantity; and the agent's salespeople, each with a PIN shown once."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.inventory import reorders
from activation.keyed import is_digits
from activation.secrets import hash_pin
from activation.service_layer.csr import NotFound, Refused
from activation.services import Services
from activation.store import audit
from activation.store.inventory import Product, StockLevel
from activation.store.models import Agent
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
