"""An agent's log-on, the same by phone and by partner order: counted, and locked when abused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.store import audit
from activation.store.models import Agent


class Logon(StrEnum):
    """How a log-on attempt ended."""

    OK = "ok"
    WRONG = "wrong"  # unknown agent, or the PIN does not match
    LOCKED = "locked"  # the agent is locked (now, or by this very failure)


def log_on(
    session: Session,
    agent_code: str,
    matches: Callable[[str], bool],
    *,
    max_failures: int,
    now: datetime,
    actor: str,
) -> tuple[Logon, Agent | None]:
    """Record a log-on attempt; `matches` tells whether the keyed PIN matches the agent's
    stored hash as read under the lock (checked outside it beforehand, it is looked up)."""
    agent = session.scalar(select(Agent).where(Agent.agent_code == agent_code).with_for_update())
    if agent is not None and agent.locked:
        audit.record(
            session, "agent", agent.agent_code, "locked", "locked", actor, "log-on refused: locked"
        )
        return Logon.LOCKED, agent
    if agent is None or not matches(agent.pin_hash):
        if agent is not None:
            agent.failed_attempts += 1
            agent.invalid_logons += 1
            if agent.failed_attempts >= max_failures:
                agent.locked = True
                detail = f"{agent.failed_attempts} failed log-ons"
                audit.record(session, "agent", agent.agent_code, "active", "locked", actor, detail)
        return Logon.WRONG, agent
    agent.failed_attempts = 0
    agent.valid_logons += 1
    agent.last_logon_at = now
    return Logon.OK, agent
