"""the comparison compares line states and gains the billing side

Revision ID: 0050
Revises: 0008
Create Date: 2026-12-03

A finding tells both sides' line state (active or suspended) and, for the billing side, the
transaction code billing's record carries; a run counts the lines it compared with billing
and the records billing gave.
"""

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comparison_findings") as batch_op:
        batch_op.add_column(sa.Column("cas_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("switch_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("billed_code", sa.String(length=8), nullable=True))
    with op.batch_alter_table("comparison_runs") as batch_op:
        batch_op.add_column(
            sa.Column("billing_lines", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("billing_records", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("comparison_runs") as batch_op:
        batch_op.drop_column("billing_records")
        batch_op.drop_column("billing_lines")
    with op.batch_alter_table("comparison_findings") as batch_op:
        batch_op.drop_column("billed_code")
        batch_op.drop_column("switch_state")
        batch_op.drop_column("cas_state")
