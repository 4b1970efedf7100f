"""Use cases of the handset inventory: ship, import a warehouse's CSV drop, receive, report."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from activation.inventory import deliveries
from activation.inventory.deliveries import DeliveryRefused, Item, ShipmentRefused
from activation.inventory.stock import Location
from activation.services import Services
from activation.store.inventory import Delivery, Reorder, StockLevel
from activation.store.models import Agent, Handset

CSV_COLUMNS = ("agent_code", "esn", "product_code")

__all__ = ["DeliveryRefused", "ShipmentRefused", "UnknownAgent"]


class UnknownAgent(ShipmentRefused):
    """The shipment names an agent CAS does not have."""


@dataclass(frozen=True)
class Shipped:
    """A delivery on its way: its number, the agent, how many handsets."""

    delivery_id: int
    agent_code: str
    count: int


@dataclass(frozen=True)
class StockLine:
    """One agent's holding of one product against its minimum."""

    agent_code: str
    product_code: str
    on_hand: int
    in_transit: int
    minimum: int
    reorder_quantity: int
    reorder_open: bool

    @property
    def short(self) -> bool:
        """Below the minimum."""
        return self.on_hand < self.minimum


def _agent(session: Session, agent_code: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.agent_code == agent_code))
    if agent is None:
        raise UnknownAgent(f"no agent {agent_code}")
    return agent


def ship(
    services: Services, agent_code: str, items: Sequence[Item], actor: str, source: str
) -> Shipped:
    """Ship handsets from headquarters to an agent as one delivery."""
    with services.db.transaction() as session:
        agent = _agent(session, agent_code)
        delivery = deliveries.ship(session, agent.id, items, actor, source)
        return Shipped(delivery.id, agent_code, len(items))


def import_csv(services: Services, text: str, actor: str, source: str) -> list[Shipped]:
    """Ship what a warehouse's CSV drop lists (agent_code, esn, product_code), one delivery per
    agent, all or nothing: any wrong row refuses the file, every problem named by its line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:2] if c not in (reader.fieldnames or [])]
    if missing:
        raise ShipmentRefused(f"the file has no column {', '.join(missing)}")
    by_agent: dict[str, list[Item]] = {}
    for row in reader:
        code, esn = (row.get("agent_code") or "").strip(), (row.get("esn") or "").strip()
        product = (row.get("product_code") or "").strip() or None
        by_agent.setdefault(code, []).append(Item(esn, product))
    if not by_agent:
        raise ShipmentRefused("the file lists no handset")
    with services.db.transaction() as session:
        shipped, problems = [], []
        for code, items in by_agent.items():
            try:
                agent = _agent(session, code)
                delivery = deliveries.ship(session, agent.id, items, actor, source)
            except ShipmentRefused as refused:
                problems.append(f"agent {code or '(none)'}: {refused}")
                continue
            shipped.append(Shipped(delivery.id, code, len(items)))
        if problems:
            raise ShipmentRefused("; ".join(problems))  # leaving the block rolls all back
        return shipped


def receive(services: Services, delivery_id: int, actor: str) -> int:
    """The agent has the delivery: its handsets join the agent's stock."""
    with services.db.transaction() as session:
        return deliveries.receive(session, delivery_id, actor)


def stock_lines(services: Services) -> list[StockLine]:
    """Every agent's stock of every product it has a level for, or holds."""
    with services.db.read() as session:
        counts = session.execute(
            select(Handset.agent_id, Handset.product_code, Handset.location, func.count())
            .where(Handset.location.in_((Location.AT_AGENT, Location.IN_TRANSIT)))
            .group_by(Handset.agent_id, Handset.product_code, Handset.location)
        ).all()
        held: dict[tuple[int, str], dict[str, int]] = {}
        for agent_id, product, location, count in counts:
            if agent_id is not None and product is not None:
                held.setdefault((agent_id, product), {})[location] = count
        levels = {(lv.agent_id, lv.product_code): lv for lv in session.scalars(select(StockLevel))}
        open_ = {
            (r.agent_id, r.product_code)
            for r in session.scalars(select(Reorder).where(Reorder.state == "open"))
        }
        agents = {a.id: a.agent_code for a in session.scalars(select(Agent))}
        lines = []
        for agent_id, product in sorted(set(held) | set(levels)):
            level, here = levels.get((agent_id, product)), held.get((agent_id, product), {})
            lines.append(
                StockLine(
                    agent_code=agents[agent_id],
                    product_code=product,
                    on_hand=here.get(Location.AT_AGENT, 0),
                    in_transit=here.get(Location.IN_TRANSIT, 0),
                    minimum=level.minimum if level else 0,
                    reorder_quantity=level.reorder_quantity if level else 0,
                    reorder_open=(agent_id, product) in open_,
                )
            )
        return sorted(lines, key=lambda line: (line.agent_code, line.product_code))


def deliveries_in_transit(services: Services) -> list[tuple[int, str, str, int]]:
    """Deliveries not yet received: number, agent, shipped when (ISO), handsets."""
    with services.db.read() as session:
        rows = session.execute(
            select(Delivery.id, Agent.agent_code, Delivery.shipped_at, func.count(Handset.esn))
            .join(Agent, Agent.id == Delivery.agent_id)
            .join(Handset, Handset.delivery_id == Delivery.id, isouter=True)
            .where(Delivery.state == "in_transit")
            .group_by(Delivery.id, Agent.agent_code, Delivery.shipped_at)
            .order_by(Delivery.id)
        ).all()
        return [(d, code, at.isoformat(timespec="seconds"), n) for d, code, at, n in rows]
