"""Tables of what follows an activation: call-backs, welcome letters and scheduled runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, ForeignKey, LargeBinary, String, Table, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from activation.store.db import Base, UTCDateTime
from activation.store.models import utcnow


class Callback(Base):
    """One outbound call to an agent about a delayed activation, and how it went."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    to_number: Mapped[str] = mapped_column(String(20))
    # Twilio's call status: queued, ringing, in-progress, completed, busy, no-answer, failed...
    status: Mapped[str] = mapped_column(String(12), default="queued")
    # heard (the MID was announced), accepted or denied; None while the agent has not logged on
    outcome: Mapped[str | None] = mapped_column(String(10))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WelcomeLetter(Base):
    """The welcome letter of an activated customer: one per transaction."""

    __tablename__ = "welcome_letters"

    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to the data dir
    produced_by: Mapped[str] = mapped_column(String(8))  # online / batch / demand
    produced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduledRun(Base):
    """One run of a nightly job, so that N schedulers run it once: the lock row."""

    __tablename__ = "scheduled_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(40), primary_key=True)  # its planned fire time
    state: Mapped[str] = mapped_column(String(10))  # running / done / failed
    holder: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(String(200), default="")


# APScheduler's job store table, as its SQLAlchemyJobStore defines it; declared here so the
# schema comes from the migrations like every other table (the store finds it and keeps it).
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
