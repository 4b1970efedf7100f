"""What selling, taking back and swapping a handset do to the stock.

Activation takes the handset from the activating agent's stock when its MID goes active; a
handset that was not there (another agent's, headquarters', never seen) is sold all the
same and the movement says so. A denied call-back puts it back in the agent's stock; a
handset swap sells the new one and takes the old one back as returned, or writes it off.
Every sale may bring the agent below a minimum: the re-order check follows each one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from activation.inventory import reorders
from activation.inventory.stock import Location, move
from activation.store.models import Handset, Transaction

NOT_IN_STOCK = "not in the agent's stock"


def sell(session: Session, tx: Transaction, esn: str, actor: str, why: str) -> None:
    """The handset now serves the transaction's line: out of its agent's stock."""
    handset = session.get(Handset, esn) or Handset(esn=esn)
    if handset.location == Location.SOLD and handset.status == "active":
        return  # sold already (a repeated answer): nothing moves twice
    stocked = handset.location == Location.AT_AGENT and handset.agent_id == tx.agent_id
    reason = why if stocked else f"{why}; {NOT_IN_STOCK}"
    move(
        session,
        handset,
        Location.SOLD,
        agent_id=None,
        actor=actor,
        reason=reason,
        transaction_id=tx.id,
    )
    if stocked and handset.product_code:
        reorders.check(session, tx.agent_id, handset.product_code, actor)


def put_back(session: Session, tx: Transaction, esn: str, actor: str, why: str) -> None:
    """The sale did not stand (a denied call-back): the handset is the agent's to sell again."""
    handset = session.get(Handset, esn)
    if handset is None or handset.location != Location.SOLD:
        return
    move(
        session,
        handset,
        Location.AT_AGENT,
        agent_id=tx.agent_id,
        actor=actor,
        reason=why,
        transaction_id=tx.id,
    )


def swap(session: Session, tx: Transaction, old: str | None, fate: str, actor: str) -> None:
    """A line's handset changed: the new one is sold, the old one returned or lost."""
    if old:
        handset = session.get(Handset, old) or Handset(esn=old)
        gone = fate == "lost"
        move(
            session,
            handset,
            Location.LOST if gone else Location.RETURNED,
            agent_id=None if gone else tx.agent_id,
            actor=actor,
            reason="reported lost on a handset swap" if gone else "returned on a handset swap",
            transaction_id=tx.id,
        )
    if tx.esn:
        sell(session, tx, tx.esn, actor, "handset swap")
