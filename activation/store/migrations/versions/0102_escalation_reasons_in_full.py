"""why a transaction went to a CSR is kept in full, up to 200 characters

Revision ID: 0102
Revises: 0101
Create Date: 2026-12-03

A reason may carry an outside party's own words ("PVS did not answer: ... answered HTTP 200
with bytes that are not JSON"); at 80 characters the part a CSR needed was cut off, and on
PostgreSQL a reason written uncut failed the webhook that wrote it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None

COLUMNS = (("escalations", "reason"), ("transactions", "escalation_reason"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(80), type_=sa.String(200))


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(
            sa.text(
                f"UPDATE {table} SET {column} = substr({column}, 1, 80) WHERE length({column}) > 80"
            )
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(200), type_=sa.String(80))
