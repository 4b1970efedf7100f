"""the numbers' block index also holds the transaction, so the comparison reads it alone

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29

The nightly comparison reads every active MID of a block with its transaction; with
transaction_id in the (npa_nxx, status, mid) index it never visits the numbers table itself.
Finding a free number uses the same index as before (its leading columns are unchanged).
"""

from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telephone_numbers") as batch_op:
        batch_op.drop_index("ix_numbers_free")
        batch_op.create_index(
            "ix_numbers_by_block", ["npa_nxx", "status", "mid", "transaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("telephone_numbers") as batch_op:
        batch_op.drop_index("ix_numbers_by_block")
        batch_op.create_index("ix_numbers_free", ["npa_nxx", "status", "mid"], unique=False)
