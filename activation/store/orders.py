"""The orders placed on a line after (and including) its activation, and their notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from activation.store.db import Base, UTCDateTime
from activation.store.models import ACTOR_LENGTH, Transaction, utcnow


class Order(Base):
    """One order on a subscriber's line: activate, change_esn, change_plan, suspend, restore,
    disconnect. An activate order's life is its transaction's; the others have their own."""

    __tablename__ = "orders"
    __table_args__ = (
        # Same key from the same partner key: the same order (a replay), never a second one.
        Index("ix_orders_idempotency", "api_key_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    type: Mapped[str] = mapped_column(String(12))
    # Indexed: the comparison asks for the few open orders among all ever placed.
    status: Mapped[str] = mapped_column(String(14), index=True)
    # The line: its activation transaction (for an activate order, the transaction itself).
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), index=True)
    mid: Mapped[str | None] = mapped_column(String(10), index=True)
    # What the order asks: {"esn": ..., "old_handset": "stock"|"lost"}, {"rate_plan": ...},
    # {"reason": "lost"|"stolen"|"non_payment"}; never an SSN or a PIN.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    channel: Mapped[str] = mapped_column(String(8))  # phone / console / api
    placed_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    transaction: Mapped[Transaction | None] = relationship(foreign_keys=[transaction_id])


class NotificationTarget(Base):
    """Where a partner wants to hear of its orders' state changes, and the key that signs them."""

    __tablename__ = "notification_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), unique=True)
    url: Mapped[str] = mapped_column(String(300))
    secret_encrypted: Mapped[str] = mapped_column(String(400))  # a vault token
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
