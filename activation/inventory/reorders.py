"""Re-orders: an agent short of a product asks headquarters' warehouse for more, once.

Rules:
- A shortfall is an agent holding fewer of a product than its minimum. It opens one
  re-order of the level's re-order quantity, sent to the warehouse by a queued activity
  (retried like any other).
- One open re-order per agent and product, however many activations race: the check runs
  under the stock level's row lock, and `open_key` is unique while the re-order is open.
- A received delivery closes the open re-orders of the products it brought; if the agent is
  still short, that is a new shortfall and a new re-order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.inventory.stock import on_hand
from activation.queue import activities
from activation.store import audit
from activation.store.inventory import Reorder, StockLevel
from activation.store.models import Agent, utcnow

WAREHOUSE = "warehouse"


def check(
    session: Session, agent_id: int, product_code: str, actor: str, now: datetime | None = None
) -> Reorder | None:
    """Open a re-order if the agent is short of the product and none is open; return it."""
    level = session.scalar(
        select(StockLevel)
        .where(StockLevel.agent_id == agent_id, StockLevel.product_code == product_code)
        .with_for_update()
    )
    if level is None or level.reorder_quantity <= 0:
        return None
    held = on_hand(session, agent_id, product_code)
    if held >= level.minimum or open_reorder(session, agent_id, product_code) is not None:
        return None
    now = now or utcnow()
    agent = session.get_one(Agent, agent_id)
    reorder = Reorder(
        agent_id=agent_id,
        product_code=product_code,
        quantity=level.reorder_quantity,
        open_key=_key(agent_id, product_code),
        state="open",
        stock_at_order=held,
        opened_at=now,
    )
    session.add(reorder)
    session.flush()
    activity = activities.enqueue(
        session,
        "warehouse_reorder",
        {
            "reorder_id": reorder.id,
            "agent_code": agent.agent_code,
            "product_code": product_code,
            "quantity": level.reorder_quantity,
        },
        target=WAREHOUSE,
        now=now,
    )
    reorder.activity_id = activity.id
    detail = f"agent {agent.agent_code} holds {held} of {product_code}, minimum {level.minimum}"
    audit.record(session, "reorder", str(reorder.id), None, "open", actor, detail)
    return reorder


def open_reorder(session: Session, agent_id: int, product_code: str) -> Reorder | None:
    """The agent's open re-order of a product, if any."""
    return session.scalar(select(Reorder).where(Reorder.open_key == _key(agent_id, product_code)))


def close(
    session: Session, reorder: Reorder, delivery_id: int, actor: str, now: datetime | None = None
) -> None:
    """A delivery answered the re-order."""
    reorder.state, reorder.open_key = "closed", None
    reorder.closed_at, reorder.delivery_id = now or utcnow(), delivery_id
    detail = f"delivery {delivery_id} received"
    audit.record(session, "reorder", str(reorder.id), "open", "closed", actor, detail)


def _key(agent_id: int, product_code: str) -> str:
    return f"{agent_id}:{product_code}"
