"""a salesperson's log-on, taken away and given back

Revision ID: 0090
Revises: 0071
Create Date: 2026-12-02

An admin takes a salesperson's log-on away (someone who left the shop) apart from a lock by
failed log-ons, so that a new PIN, which lifts a lock, does not give the log-on back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0090"
down_revision = "0071"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("salespeople") as batch:
        batch.add_column(
            sa.Column("may_log_on", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("salespeople") as batch:
        batch.drop_column("may_log_on")
