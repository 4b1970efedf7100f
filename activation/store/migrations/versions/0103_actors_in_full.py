"""who did something is kept in full: a partner's name is 40 characters, "partner " more

Revision ID: 0103
Revises: 0102
Create Date: 2026-12-03

A partner's actor is "partner " and its name, up to 48 characters, and the audit log, the
orders' placed_by and the handsets' movements kept 40: on PostgreSQL a partner with a long
name could not place an order (the audit entry failed the request).
"""

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None

COLUMNS = {
    "audit_log": ("actor",),
    "orders": ("placed_by",),
    "handset_movements": ("actor",),
    "deliveries": ("shipped_by", "received_by"),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.String(40), type_=sa.String(60))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(
                sa.text(
                    f"UPDATE {table} SET {column} = substr({column}, 1, 40) "
                    f"WHERE length({column}) > 40"
                )
            )
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.String(60), type_=sa.String(40))
