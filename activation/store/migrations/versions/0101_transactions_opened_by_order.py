"""a transaction opened by a partner's activate order says so itself

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-02

Every move of a transaction asked the orders table whether an activate order mirrors it,
though only a partner's order opens such a transaction: the transaction now carries the fact,
set when the order opens it, and the moves of every other transaction ask nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(
            sa.Column("by_order", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE transactions SET by_order = true WHERE id IN "
        "(SELECT transaction_id FROM orders WHERE type = 'activate')"
    )


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("by_order")
