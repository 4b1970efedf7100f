"""one head again, and the scheduler's stored jobs forgotten (their functions moved)

Revision ID: 0007
Revises: 0003, 0004, 0006
Create Date: 2026-12-01

The activation package now keeps its modules in subpackages: APScheduler's stored jobs name
functions by their old paths. Every `cas worker` adds its jobs again when it starts
(replace_existing), so the stored rows are dropped rather than rewritten.
"""

from alembic import op

revision = "0007"
down_revision = ("0003", "0004", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM apscheduler_jobs")


def downgrade() -> None:
    op.execute("DELETE FROM apscheduler_jobs")
