"""Where each handset is, and the one function that moves it.

Rules:
- A handset's location changes only through `move()`, which writes one dated movement row
  (from where, to where, which agents, by whom, why) and keeps the handset's service status
  in step: sold is active, lost is lost, anywhere else it is in stock.
- An agent's stock of a product is the count of its handsets `at_agent` with that agent:
  what is in transit, sold, returned or lost is not there to sell.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from activation.store.inventory import HandsetMovement
from activation.store.models import ACTOR_LENGTH, Handset, utcnow


class Location(StrEnum):
    """Where a handset is."""

    HEADQUARTERS = "headquarters"  # in headquarters' warehouse
    IN_TRANSIT = "in_transit"  # shipped to an agent, not yet received
    AT_AGENT = "at_agent"  # in an agent's stock, to sell
    SOLD = "sold"  # serves a customer's line
    RETURNED = "returned"  # back from a customer (a swap), held by the agent, not for sale
    LOST = "lost"  # reported lost or stolen


# The handset's service status at each location (what the rest of CAS has always read).
STATUS_AT = {Location.SOLD: "active", Location.LOST: "lost"}
# Places a handset can be shipped from: it is headquarters' to send.
SHIPPABLE = frozenset({Location.HEADQUARTERS, Location.RETURNED})


def move(
    session: Session,
    handset: Handset,
    to: Location,
    *,
    agent_id: int | None,
    actor: str,
    reason: str,
    transaction_id: int | None = None,
    delivery_id: int | None = None,
    now: datetime | None = None,
) -> HandsetMovement:
    """Move a handset (a new one has no `from`), record the movement, and return it."""
    now = now or utcnow()
    known = not inspect(handset).transient
    movement = HandsetMovement(
        at=now,
        esn=handset.esn,
        product_code=handset.product_code,
        from_location=handset.location if known else None,
        to_location=to.value,
        from_agent_id=handset.agent_id if known else None,
        to_agent_id=agent_id,
        actor=actor[:ACTOR_LENGTH],
        reason=reason[:120],
        transaction_id=transaction_id,
        delivery_id=delivery_id,
    )
    handset.location, handset.agent_id = to.value, agent_id
    handset.status = STATUS_AT.get(to, "in_stock")
    handset.updated_at = now
    if delivery_id is not None:
        handset.delivery_id = delivery_id
    session.add(handset)
    session.flush()
    session.add(movement)
    return movement


def in_stock_of(session: Session, esn: str, agent_id: int) -> bool:
    """Tell whether a handset is in this agent's stock, to sell."""
    handset = session.get(Handset, esn)
    return (
        handset is not None
        and handset.location == Location.AT_AGENT
        and handset.agent_id == agent_id
    )


def on_hand(session: Session, agent_id: int, product_code: str) -> int:
    """How many handsets of a product an agent holds to sell."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Handset)
            .where(
                Handset.agent_id == agent_id,
                Handset.location == Location.AT_AGENT,
                Handset.product_code == product_code,
            )
        )
        or 0
    )
