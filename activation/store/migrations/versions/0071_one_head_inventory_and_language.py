"""one head again: handset inventory beside the agent's language

Revision ID: 0071
Revises: 0060, 0070
Create Date: 2026-12-02
"""

revision = "0071"
down_revision = ("0060", "0070")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
