"""the language a call speaks, and each agent's

Revision ID: 0060
Revises: 0051
Create Date: 2026-12-02

An agent's calls speak the agent's language (English or Spanish, set in the console) unless
the caller chose one with a key at the start; the call keeps it across its webhooks.
"""

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0051"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="en"))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("language")
