"""telephone-number comparison: runs, findings and the run lock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import activation.store.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comparison_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", activation.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
        sa.Column("repair", sa.Boolean(), nullable=False),
        sa.Column("switches", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("unreadable", sa.JSON(), nullable=False),
        sa.Column("cas_numbers", sa.Integer(), nullable=False),
        sa.Column("switch_numbers", sa.Integer(), nullable=False),
        sa.Column("discrepancies", sa.Integer(), nullable=False),
        sa.Column("report_path", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "comparison_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("switch_name", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mid", sa.String(length=16), nullable=False),
        sa.Column("cas_esn", sa.String(length=18), nullable=True),
        sa.Column("switch_esn", sa.String(length=18), nullable=True),
        sa.Column("cas_features", sa.String(length=80), nullable=True),
        sa.Column("switch_features", sa.String(length=80), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("repair", sa.String(length=10), nullable=False),
        sa.Column("repair_ref", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["comparison_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comparison_findings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comparison_findings_run", ["run_id", "switch_name", "mid"], unique=False
        )
    op.create_table(
        "comparison_lock",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("comparison_lock")
    with op.batch_alter_table("comparison_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_comparison_findings_run")
    op.drop_table("comparison_findings")
    op.drop_table("comparison_runs")
