"""Handset stock: products, where each handset is, its movements, deliveries and re-orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from activation.store.db import Base, UTCDateTime
from activation.store.models import ACTOR_LENGTH, utcnow


class Product(Base):
    """A product headquarters stocks: a handset model under its product code."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    model: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(20), default="handset")


class HandsetMovement(Base):
    """One move of one handset from a place to another, dated and by whom (the stock's audit)."""

    __tablename__ = "handset_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    esn: Mapped[str] = mapped_column(ForeignKey("handsets.esn"), index=True)
    product_code: Mapped[str | None] = mapped_column(String(12))
    from_location: Mapped[str | None] = mapped_column(String(12))
    to_location: Mapped[str] = mapped_column(String(12))
    # The agent who held it before and who holds it after (None: headquarters, a customer).
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    reason: Mapped[str] = mapped_column(String(120), default="")
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))


class StockLevel(Base):
    """How many of a product an agent should hold: below `minimum`, re-order `reorder_quantity`."""

    __tablename__ = "stock_levels"
    __table_args__ = (UniqueConstraint("agent_id", "product_code", name="uq_stock_levels"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    reorder_quantity: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """Handsets headquarters shipped to an agent: in transit until the agent receives them."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="in_transit")  # in_transit/received
    shipped_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    # Where it came from: "cli", "console", "api", or the CSV file's name.
    source: Mapped[str] = mapped_column(String(80), default="")
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))


class Reorder(Base):
    """A re-order to headquarters for one agent and product, open until a delivery closes it."""

    __tablename__ = "reorders"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    # "agent:product" while open, NULL once closed: one open re-order per shortfall, enforced
    # by the database whatever two activations racing believe.
    open_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open / closed
    stock_at_order: Mapped[int] = mapped_column(Integer, default=0)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    # The warehouse's reference once it has taken the re-order.
    warehouse_ref: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
