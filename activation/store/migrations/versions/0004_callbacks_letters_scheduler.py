"""call-backs, welcome letters, scheduled runs and APScheduler's job store

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import activation.store.db

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=40), nullable=True),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("placed_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid"),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callbacks_activity_id"), ["activity_id"])
        batch_op.create_index(batch_op.f("ix_callbacks_transaction_id"), ["transaction_id"])

    op.create_table(
        "welcome_letters",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("produced_by", sa.String(length=8), nullable=False),
        sa.Column("produced_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("transaction_id"),
    )

    op.create_table(
        "scheduled_runs",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("run_key", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("holder", sa.String(length=60), nullable=False),
        sa.Column("started_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", activation.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("job", "run_key"),
    )

    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"])


def downgrade() -> None:
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    op.drop_table("scheduled_runs")
    op.drop_table("welcome_letters")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_callbacks_activity_id"))
    op.drop_table("callbacks")
