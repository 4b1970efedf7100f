"""one head again, and orders found by status

Revision ID: 0051
Revises: 0020, 0050
Create Date: 2026-12-02

The comparison asks for the orders still open (acknowledged, inProgress, held) among all a
carrier has ever placed: an index on the status keeps that a look-up, not a scan.
"""

from alembic import op

revision = "0051"
down_revision = ("0020", "0050")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_status", "orders", ["status"])


def downgrade() -> None:
    op.drop_index("ix_orders_status", table_name="orders")
