"""orders on a line after its activation, number aging, partners' notification targets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import activation.store.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = activation.store.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("mid", sa.String(length=10), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("placed_by", sa.String(length=40), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_orders_idempotency", "orders", ["api_key_id", "idempotency_key"], unique=True)
    op.create_index(op.f("ix_orders_mid"), "orders", ["mid"], unique=False)
    op.create_index(op.f("ix_orders_transaction_id"), "orders", ["transaction_id"], unique=False)
    op.create_table(
        "notification_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key_id"),
    )
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.add_column(sa.Column("former_mid", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("suspend_reason", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("open_order_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_transactions_former_mid"), ["former_mid"])
    with op.batch_alter_table("telephone_numbers") as batch_op:
        batch_op.add_column(sa.Column("aging_until", WHEN, nullable=True))
        batch_op.create_index("ix_numbers_aging", ["aging_until"])
    with op.batch_alter_table("calls") as batch_op:
        batch_op.add_column(sa.Column("order_draft", sa.JSON(), nullable=True))
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_activities_order_id"), ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_order_id"))
        batch_op.drop_column("order_id")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_column("order_draft")
    with op.batch_alter_table("telephone_numbers") as batch_op:
        batch_op.drop_index("ix_numbers_aging")
        batch_op.drop_column("aging_until")
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_transactions_former_mid"))
        batch_op.drop_column("open_order_id")
        batch_op.drop_column("suspend_reason")
        batch_op.drop_column("former_mid")
    op.drop_table("notification_targets")
    op.drop_index(op.f("ix_orders_transaction_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_mid"), table_name="orders")
    op.drop_index("ix_orders_idempotency", table_name="orders")
    op.drop_table("orders")
