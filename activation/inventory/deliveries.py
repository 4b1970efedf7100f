"""Deliveries: headquarters ships handsets to an agent; the agent's stock grows on receipt.

A shipment names the agent and its ESNs (and, for handsets headquarters has not seen yet,
their product). Only a handset at headquarters (or returned) is headquarters' to ship; a
shipment with any handset that is not is refused whole, naming each, so nothing is half
shipped. Receiving moves every handset of the delivery into the agent's stock, closes the
re-orders of the products it brought, and checks the levels again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.inventory import reorders
from activation.inventory.stock import SHIPPABLE, Location, move
from activation.store import audit
from activation.store.inventory import Delivery, Product
from activation.store.models import ACTOR_LENGTH, Handset, utcnow
from activation.validators import esn_problem


class ShipmentRefused(Exception):
    """A shipment that cannot go as asked; the message says what is wrong with which ESN."""


class DeliveryRefused(Exception):
    """A delivery that cannot be received (unknown, or received already)."""


@dataclass(frozen=True)
class Item:
    """One handset of a shipment: its ESN and, for a new one, its product code."""

    esn: str
    product_code: str | None = None


def ship(
    session: Session,
    agent_id: int,
    items: Sequence[Item],
    actor: str,
    source: str,
    now: datetime | None = None,
) -> Delivery:
    """Put handsets in transit to an agent as one delivery; refuse the whole when any is wrong."""
    if not items:
        raise ShipmentRefused("a shipment needs at least one ESN")
    now = now or utcnow()
    problems: list[str] = []
    handsets: list[Handset] = []
    for esn, count in Counter(item.esn for item in items).items():
        if count > 1:
            problems.append(f"{esn}: listed {count} times")
    for item in items:
        handset, problem = _shippable(session, item)
        if problem:
            problems.append(f"{item.esn}: {problem}")
        elif handset is not None:
            handsets.append(handset)
    if problems:
        raise ShipmentRefused("; ".join(problems))
    delivery = Delivery(
        agent_id=agent_id, state="in_transit", shipped_by=actor[:ACTOR_LENGTH], source=source[:80]
    )
    delivery.shipped_at = now
    session.add(delivery)
    session.flush()
    for handset in handsets:
        move(
            session,
            handset,
            Location.IN_TRANSIT,
            agent_id=agent_id,
            actor=actor,
            reason=f"shipped in delivery {delivery.id}",
            delivery_id=delivery.id,
            now=now,
        )
    audit.record(
        session, "delivery", str(delivery.id), None, "in_transit", actor, f"{len(handsets)} ESNs"
    )
    return delivery


def _shippable(session: Session, item: Item) -> tuple[Handset | None, str]:
    problem = esn_problem(item.esn)
    if problem:
        return None, problem
    handset = session.get(Handset, item.esn)
    product = item.product_code
    if product is not None and session.get(Product, product) is None:
        return None, f"no product {product}"
    if handset is None:
        if product is None:
            return None, "a handset headquarters has not seen needs its product code"
        model = session.get_one(Product, product).model
        return Handset(esn=item.esn, model=model, product_code=product), ""
    if handset.location not in SHIPPABLE:
        return None, f"it is {handset.location.replace('_', ' ')}, not at headquarters"
    if product is not None and handset.product_code not in (None, product):
        return None, f"it is a {handset.product_code}, not a {product}"
    if handset.product_code is None:
        if product is None:
            return None, "its product code is not known: give it"
        handset.product_code = product
    return handset, ""


def receive(session: Session, delivery_id: int, actor: str, now: datetime | None = None) -> int:
    """The agent has the delivery: its handsets join the agent's stock; return how many."""
    now = now or utcnow()
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise DeliveryRefused(f"no delivery {delivery_id}")
    if delivery.state != "in_transit":
        raise DeliveryRefused(f"delivery {delivery_id} was received already")
    handsets = session.scalars(
        select(Handset).where(
            Handset.delivery_id == delivery.id, Handset.location == Location.IN_TRANSIT
        )
    ).all()
    for handset in handsets:
        move(
            session,
            handset,
            Location.AT_AGENT,
            agent_id=delivery.agent_id,
            actor=actor,
            reason=f"received in delivery {delivery.id}",
            delivery_id=delivery.id,
            now=now,
        )
    delivery.state, delivery.received_at = "received", now
    delivery.received_by = actor[:ACTOR_LENGTH]
    audit.record(session, "delivery", str(delivery.id), "in_transit", "received", actor)
    for product in sorted({h.product_code for h in handsets if h.product_code}):
        reorder = reorders.open_reorder(session, delivery.agent_id, product)
        if reorder is not None:
            reorders.close(session, reorder, delivery.id, actor, now)
        reorders.check(session, delivery.agent_id, product, actor, now)
    return len(handsets)
