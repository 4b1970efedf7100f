"""What the console shows of the inventory: open re-orders, stock over time, sales by period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select

from activation.inventory.stock import Location, on_hand
from activation.services import Services
from activation.store.inventory import HandsetMovement, Reorder
from activation.store.models import Agent, Transaction
from activation.store.salespeople import Salesperson


@dataclass(frozen=True)
class OpenReorder:
    """A re-order waiting for its delivery."""

    reorder_id: int
    agent_code: str
    product_code: str
    quantity: int
    stock_at_order: int
    opened_at: str
    warehouse_ref: str


@dataclass(frozen=True)
class SalesRow:
    """Activations completed in a period by one agent (and salesperson, if any)."""

    agent_code: str
    agent_name: str
    salesperson_code: str
    salesperson_name: str
    activations: int


def open_reorders(services: Services) -> list[OpenReorder]:
    """Every open re-order, oldest first."""
    with services.db.read() as session:
        rows = session.execute(
            select(Reorder, Agent.agent_code)
            .join(Agent, Agent.id == Reorder.agent_id)
            .where(Reorder.state == "open")
            .order_by(Reorder.id)
        ).all()
        return [
            OpenReorder(
                r.id,
                code,
                r.product_code,
                r.quantity,
                r.stock_at_order,
                r.opened_at.isoformat(timespec="minutes"),
                r.warehouse_ref or "",
            )
            for r, code in rows
        ]


def stock_over_time(
    services: Services, agent_code: str, product_code: str, days: int, today: date
) -> list[tuple[str, int]]:
    """The agent's stock of a product at the end of each of the last `days` days."""
    with services.db.read() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == agent_code))
        if agent_id is None:
            return []
        start = datetime.combine(today - timedelta(days=days - 1), time.min, UTC)
        moves = session.scalars(
            select(HandsetMovement).where(
                HandsetMovement.at >= start,
                HandsetMovement.product_code == product_code,
                or_(
                    and_(
                        HandsetMovement.to_agent_id == agent_id,
                        HandsetMovement.to_location == Location.AT_AGENT,
                    ),
                    and_(
                        HandsetMovement.from_agent_id == agent_id,
                        HandsetMovement.from_location == Location.AT_AGENT,
                    ),
                ),
            )
        ).all()
        level = on_hand(session, agent_id, product_code)
    change: dict[date, int] = {}
    for move in moves:
        into = move.to_agent_id == agent_id and move.to_location == Location.AT_AGENT
        out_of = move.from_agent_id == agent_id and move.from_location == Location.AT_AGENT
        day = move.at.astimezone(UTC).date()
        change[day] = change.get(day, 0) + int(into) - int(out_of)
    series: list[tuple[str, int]] = []
    for offset in range(days):  # walk back from today's level
        day = today - timedelta(days=offset)
        series.append((day.strftime("%m-%d"), level))
        level -= change.get(day, 0)
    return list(reversed(series))


def sales(services: Services, start: date, end: date) -> list[SalesRow]:
    """Activations completed from `start` up to and including `end`, per agent and salesperson."""
    since = datetime.combine(start, time.min, UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, UTC)
    with services.db.read() as session:
        rows = session.execute(
            select(
                Agent.agent_code,
                Agent.name,
                Salesperson.code,
                Salesperson.name,
                func.count(Transaction.id),
            )
            .join(Agent, Agent.id == Transaction.agent_id)
            .join(Salesperson, Salesperson.id == Transaction.salesperson_id, isouter=True)
            .where(Transaction.completed_at >= since, Transaction.completed_at < until)
            .group_by(Agent.agent_code, Agent.name, Salesperson.code, Salesperson.name)
            .order_by(Agent.agent_code, Salesperson.code)
        ).all()
        return [
            SalesRow(code, name, sp_code or "", sp_name or "", count)
            for code, name, sp_code, sp_name, count in rows
        ]
