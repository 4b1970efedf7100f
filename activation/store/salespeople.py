"""Salespeople under an agent: each keys an ID and PIN of their own after the agent's log-on."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from activation.store.db import Base


class Salesperson(Base):
    """A person selling for an agent, with their own PIN (hashed) and restrictions."""

    __tablename__ = "salespeople"
    __table_args__ = (UniqueConstraint("agent_id", "code", name="uq_salespeople_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80), default="")
    pin_hash: Mapped[str] = mapped_column(String(200))
    # {"rate_plans": ["10"], "npa_nxx": ["713555"]}; empty means the agent's own restrictions
    restrictions: Mapped[dict] = mapped_column(JSON, default=dict)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Taken away by an admin (apart from a lock by failed log-ons, which a new PIN lifts).
    may_log_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
