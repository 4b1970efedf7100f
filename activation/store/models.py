"""The data model: agents, handsets, customers, rate plans, switches, numbers, transactions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from activation.store.db import Base, UTCDateTime

# Why a transaction went to a CSR: a sentence that may carry an outside party's own words.
REASON_LENGTH = 200
# Who did it: a console user's or a partner's name (40) with what they are ("partner ...").
ACTOR_LENGTH = 60


def utcnow() -> datetime:
    """Return the current time in UTC (every stored time is UTC)."""
    return datetime.now(UTC)


class Agent(Base):
    """A selling agent who dials in from a phone shop."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    pin_hash: Mapped[str] = mapped_column(String(200))
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    # e.g. {"rate_plans": ["10", "20"], "npa_nxx": ["713555"]}; empty means no restriction
    restrictions: Mapped[dict] = mapped_column(JSON, default=dict)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    valid_logons: Mapped[int] = mapped_column(Integer, default=0)
    invalid_logons: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # An ESN keyed that is not in this agent's stock: "allow_and_note" or "to_csr".
    unstocked_esn: Mapped[str] = mapped_column(
        String(16), default="allow_and_note", server_default="allow_and_note"
    )
    last_logon_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the call speaks once the agent has logged on: en or es.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")


class Handset(Base):
    """A handset in stock or in service, by its ESN (stock is tracked, not a condition).

    `status` says whether it serves a line; `location` and `agent_id` say where it is, and
    only activation.inventory moves them, writing a movement each time.
    """

    __tablename__ = "handsets"
    __table_args__ = (Index("ix_handsets_stock", "agent_id", "location", "product_code"),)

    esn: Mapped[str] = mapped_column(String(18), primary_key=True)
    model: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(12), default="in_stock")  # in_stock/active/lost
    product_code: Mapped[str | None] = mapped_column(ForeignKey("products.code"))
    # headquarters / in_transit / at_agent / sold / returned / lost
    location: Mapped[str] = mapped_column(
        String(12), default="headquarters", server_default="headquarters"
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The delivery it travels (or last travelled) with.
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Customer(Base):
    """A subscriber; the SSN is kept as keyed hash, last four and an encrypted copy."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # individual / business
    ssn_hash: Mapped[str] = mapped_column(String(64), index=True)
    ssn_last4: Mapped[str] = mapped_column(String(4))
    ssn_encrypted: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    credit_score: Mapped[int | None] = mapped_column(Integer)
    deposit_cents: Mapped[int] = mapped_column(Integer, default=0)
    deposit_method: Mapped[str] = mapped_column(String(8), default="")  # cash / check
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RatePlan(Base):
    """A rate plan an agent may sell, with the feature string its switch stores."""

    __tablename__ = "rate_plans"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    monthly_cents: Mapped[int] = mapped_column(Integer, default=0)
    features: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DepositRule(Base):
    """One band of the deposit table: a credit score range and what it costs."""

    __tablename__ = "deposit_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    min_score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(8))  # approve / decline
    deposit_cents: Mapped[int] = mapped_column(Integer, default=0)


class Switch(Base):
    """A row of the Switch Information File."""

    __tablename__ = "switches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    dialect: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(20), default="")
    primary_url: Mapped[str] = mapped_column(String(200))
    backup_url: Mapped[str] = mapped_column(String(200), default="")
    logon_name: Mapped[str] = mapped_column(String(40), default="")
    # A token of CAS's vault (activation.secrets.Vault), never the secret in clear; empty for a
    # switch that needs no log-on secret.
    logon_secret_encrypted: Mapped[str] = mapped_column(String(400), server_default="")
    # {"insert": {"format": ..., "expect": ...}, "delete": ..., "query": ..., "dump": ...}
    commands: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    blocks: Mapped[list[NpaNxxBlock]] = relationship(back_populates="switch")


class NpaNxxBlock(Base):
    """An NPA-NXX block of numbers served by one switch."""

    __tablename__ = "npa_nxx_blocks"

    npa_nxx: Mapped[str] = mapped_column(String(6), primary_key=True)
    switch_id: Mapped[int] = mapped_column(ForeignKey("switches.id"))
    first_suffix: Mapped[int] = mapped_column(Integer, default=1)
    last_suffix: Mapped[int] = mapped_column(Integer, default=9999)

    switch: Mapped[Switch] = relationship(back_populates="blocks")


class TelephoneNumber(Base):
    """One MID of the inventory: free, reserved for a transaction, active, or blocked."""

    __tablename__ = "telephone_numbers"
    # Free numbers are found by the leading columns; the nightly comparison reads active MIDs
    # with their transaction from this index alone. Aging numbers are found by their date.
    __table_args__ = (
        Index("ix_numbers_by_block", "npa_nxx", "status", "mid", "transaction_id"),
        Index("ix_numbers_aging", "aging_until"),
    )

    mid: Mapped[str] = mapped_column(String(10), primary_key=True)
    npa_nxx: Mapped[str] = mapped_column(ForeignKey("npa_nxx_blocks.npa_nxx"))
    # free / reserved / active / blocked / aging (disconnected, not to be handed out yet)
    status: Mapped[str] = mapped_column(String(10), default="free")
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    aging_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Transaction(Base):
    """One activation, from the Transaction Code to the active MID (the Incomplete File too)."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    # Who sold it, when the agent has salespeople.
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("salespeople.id"), index=True)
    # activation.lifecycle.states.TxStatus: being activated, then the line's life
    status: Mapped[str] = mapped_column(String(12), default="incomplete")
    step: Mapped[str] = mapped_column(String(20), default="esn")
    esn: Mapped[str | None] = mapped_column(String(18), index=True)
    customer_kind: Mapped[str | None] = mapped_column(String(12))
    ssn_hash: Mapped[str | None] = mapped_column(String(64))
    ssn_last4: Mapped[str | None] = mapped_column(String(4))
    ssn_encrypted: Mapped[str | None] = mapped_column(Text)
    bureau_name: Mapped[str | None] = mapped_column(String(120))
    bureau_address: Mapped[str | None] = mapped_column(String(200))
    credit_score: Mapped[int | None] = mapped_column(Integer)
    credit_decision: Mapped[str | None] = mapped_column(String(10))  # approve/decline/unknown
    deposit_cents: Mapped[int | None] = mapped_column(Integer)
    deposit_method: Mapped[str | None] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    rate_plan_code: Mapped[str | None] = mapped_column(ForeignKey("rate_plans.code"))
    npa_nxx: Mapped[str | None] = mapped_column(String(6))
    mid: Mapped[str | None] = mapped_column(String(10), unique=True)
    # The MID a disconnected line had (mid is cleared so the number can live again).
    former_mid: Mapped[str | None] = mapped_column(String(10), index=True)
    switch_name: Mapped[str | None] = mapped_column(String(20))
    suspend_reason: Mapped[str | None] = mapped_column(String(12))
    # The one order in flight on this line, if any (set and cleared under the row lock).
    open_order_id: Mapped[int | None] = mapped_column(Integer)
    escalation_reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH))
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Opened by a partner's activate order, which mirrors every move: no caller waits on it.
    by_order: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agent: Mapped[Agent] = relationship()
    customer: Mapped[Customer | None] = relationship()


class Call(Base):
    """The state of one phone call, so any worker of any host can take its next webhook."""

    __tablename__ = "calls"

    call_sid: Mapped[str] = mapped_column(String(40), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    from_number: Mapped[str] = mapped_column(String(20), default="")
    agent_code: Mapped[str | None] = mapped_column(String(8))  # as keyed, before the PIN
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    salesperson_code: Mapped[str | None] = mapped_column(String(8))  # as keyed, before the PIN
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("salespeople.id"))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    step: Mapped[str] = mapped_column(String(20), default="agent_id")
    # Bad entries per step over the whole call (a step re-entered keeps its count).
    failures: Mapped[dict] = mapped_column(JSON, default=dict)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)  # silence at the current step
    login_failures: Mapped[int] = mapped_column(Integer, default=0)
    hold_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An order on a line being keyed: its type and values, then the placed order's code.
    order_draft: Mapped[dict | None] = mapped_column(JSON)
    # The language the call speaks: chosen by a key at the start, else the agent's.
    language: Mapped[str | None] = mapped_column(String(2))
    # Every answer is numbered; a webhook carrying an answered number gets the same answer back.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_answer: Mapped[str | None] = mapped_column(Text)  # encrypted: it may read back an SSN
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transaction: Mapped[Transaction | None] = relationship()


class Escalation(Base):
    """A call handed to a CSR: where it stopped and why."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_transaction_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(40))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    step: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    # One of activation.lifecycle.escalations.KINDS: what metrics group by, never the reason.
    kind: Mapped[str] = mapped_column(String(20), default="other", server_default="other")
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transaction: Mapped[Transaction | None] = relationship()
    agent: Mapped[Agent | None] = relationship()


class AuditEntry(Base):
    """One status change of anything, by whom."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(40))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    detail: Mapped[str] = mapped_column(String(200), default="")


class Activity(Base):
    """One call to an outside system, queued, retried, and visible until done."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_due", "state", "next_try_at"),
        Index("ix_activities_transaction_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # credit_check/switch_insert/billing_record
    target: Mapped[str] = mapped_column(String(40), default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(60))
    last_error: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict | None] = mapped_column(JSON)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ActivityAttempt(Base):
    """The activity log: every attempt with its answer and duration."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[str] = mapped_column(String(40), default="")
    request: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(10))  # ok / retry / failed
    answer: Mapped[str] = mapped_column(String(300), default="")


__all__ = [
    "Activity",
    "ActivityAttempt",
    "Agent",
    "AuditEntry",
    "Call",
    "Customer",
    "DepositRule",
    "Escalation",
    "Handset",
    "NpaNxxBlock",
    "RatePlan",
    "Switch",
    "TelephoneNumber",
    "Transaction",
]
