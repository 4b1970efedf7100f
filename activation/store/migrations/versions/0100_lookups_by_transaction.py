"""a handset's line, a transaction's activities, escalations and audit trail found by index

Revision ID: 0100
Revises: 0090
Create Date: 2026-12-02

Whether a handset already serves a line (asked at every ESN keyed and every handset order), a
line's activities (the removal waiting for its registration, a delayed insert hurried, a
resumed check), its escalations (settled when an order is retried) and its audit trail (the
line page) were found by scanning the whole table: a cost that grew with every activation
ever made. PostgreSQL does not index a foreign key by itself.
"""

from alembic import op

revision = "0100"
down_revision = "0090"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transactions_esn", "transactions", ["esn"])
    op.create_index("ix_activities_transaction_id", "activities", ["transaction_id"])
    op.create_index("ix_escalations_transaction_id", "escalations", ["transaction_id"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_index("ix_escalations_transaction_id", table_name="escalations")
    op.drop_index("ix_activities_transaction_id", table_name="activities")
    op.drop_index("ix_transactions_esn", table_name="transactions")
