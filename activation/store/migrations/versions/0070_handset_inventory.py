"""handset inventory: products, where each handset is, movements, deliveries, re-orders;
salespeople under each agent

Revision ID: 0070
Revises: 0051
Create Date: 2026-12-02

Every handset gets a product code and a location (headquarters, in transit, at an agent,
sold, returned, lost) with the agent holding it; each move is a row of handset_movements.
Agents hold stock against a minimum per product; a shortfall opens one re-order to
headquarters (one open per agent and product: reorders.open_key is unique). Handsets already
known keep their place: one in service is sold, the others wait at headquarters. Salespeople
log on under their agent; a transaction records who sold it.
"""

import sqlalchemy as sa
from alembic import op

from activation.store.db import UTCDateTime

revision = "0070"
down_revision = "0051"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("shipped_by", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("shipped_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("received_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deliveries_agent_id", "deliveries", ["agent_id"])
    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=12), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("reorder_quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["product_code"], ["products.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "product_code", name="uq_stock_levels"),
    )
    op.create_table(
        "reorders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(length=24), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("stock_at_order", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_ref", sa.String(length=40), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.ForeignKeyConstraint(["product_code"], ["products.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_reorders_agent_id", "reorders", ["agent_id"])
    op.create_table(
        "handset_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("esn", sa.String(length=18), nullable=False),
        sa.Column("product_code", sa.String(length=12), nullable=True),
        sa.Column("from_location", sa.String(length=12), nullable=True),
        sa.Column("to_location", sa.String(length=12), nullable=False),
        sa.Column("from_agent_id", sa.Integer(), nullable=True),
        sa.Column("to_agent_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.ForeignKeyConstraint(["esn"], ["handsets.esn"]),
        sa.ForeignKeyConstraint(["from_agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["to_agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handset_movements_at", "handset_movements", ["at"])
    op.create_index("ix_handset_movements_esn", "handset_movements", ["esn"])
    with op.batch_alter_table("handsets") as batch_op:
        batch_op.add_column(sa.Column("product_code", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column(
                "location", sa.String(length=12), nullable=False, server_default="headquarters"
            )
        )
        batch_op.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("delivery_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_handsets_product_code", "products", ["product_code"], ["code"]
        )
        batch_op.create_foreign_key("fk_handsets_agent_id", "agents", ["agent_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_handsets_delivery_id", "deliveries", ["delivery_id"], ["id"]
        )
        batch_op.create_index("ix_handsets_stock", ["agent_id", "location", "product_code"])
    op.execute("UPDATE handsets SET location = 'sold' WHERE status = 'active'")
    op.execute("UPDATE handsets SET location = 'lost' WHERE status = 'lost'")
    op.create_table(
        "salespeople",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("restrictions", sa.JSON(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "code", name="uq_salespeople_code"),
    )
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.add_column(sa.Column("salesperson_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_transactions_salesperson_id", "salespeople", ["salesperson_id"], ["id"]
        )
        batch_op.create_index("ix_transactions_salesperson_id", ["salesperson_id"])
    with op.batch_alter_table("calls") as batch_op:
        batch_op.add_column(sa.Column("salesperson_code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("salesperson_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_calls_salesperson_id", "salespeople", ["salesperson_id"], ["id"]
        )
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(
            sa.Column(
                "unstocked_esn",
                sa.String(length=16),
                nullable=False,
                server_default="allow_and_note",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("unstocked_esn")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_constraint("fk_calls_salesperson_id", type_="foreignkey")
        batch_op.drop_column("salesperson_id")
        batch_op.drop_column("salesperson_code")
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.drop_index("ix_transactions_salesperson_id")
        batch_op.drop_constraint("fk_transactions_salesperson_id", type_="foreignkey")
        batch_op.drop_column("salesperson_id")
    op.drop_table("salespeople")
    with op.batch_alter_table("handsets") as batch_op:
        batch_op.drop_index("ix_handsets_stock")
        batch_op.drop_constraint("fk_handsets_delivery_id", type_="foreignkey")
        batch_op.drop_constraint("fk_handsets_agent_id", type_="foreignkey")
        batch_op.drop_constraint("fk_handsets_product_code", type_="foreignkey")
        batch_op.drop_column("delivery_id")
        batch_op.drop_column("agent_id")
        batch_op.drop_column("location")
        batch_op.drop_column("product_code")
    op.drop_index("ix_handset_movements_esn", table_name="handset_movements")
    op.drop_index("ix_handset_movements_at", table_name="handset_movements")
    op.drop_table("handset_movements")
    op.drop_index("ix_reorders_agent_id", table_name="reorders")
    op.drop_table("reorders")
    op.drop_table("stock_levels")
    op.drop_index("ix_deliveries_agent_id", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("products")
