"""console sessions and log-in throttles, partners owning API keys, escalation kinds

Revision ID: 0020
Revises: 0007
Create Date: 2026-12-01

A console log-in becomes a row (the cookie holds its token), failed log-ins are counted per
account, address and browser in login_throttles instead of deactivating the account, API
keys belong to a partner row rather than a name, and every escalation gets a kind from a
fixed list (existing ones are sorted by their reasons' words).
"""

import sqlalchemy as sa
from alembic import op

import activation.store.db

revision = "0020"
down_revision = "0007"
branch_labels = None
depends_on = None

# Existing reasons, as the code wrote them, and the kind each means (first match wins).
KIND_OF_REASON = (
    ("%agent asked for a CSR", "asked_for_csr"),
    ("%: no input", "no_input"),
    ("agent locked", "agent_log_on"),
    ("log-on failed twice", "agent_log_on"),
    ("ESN %", "handset"),
    ("PVS %", "handset"),
    ("credit %", "credit"),
    ("no free numbers%", "no_number"),
    ("switch %", "switch"),
    ("% took MID %", "switch"),
    ("repair refused%", "comparison"),
    ("call-back%", "callback"),
    ("denied MID%", "callback"),
    ("% removed from queue", "queue"),
    ("E911 %", "e911"),
    ("order %", "order"),
    ("unknown to the credit bureau", "order"),
    ("deposit due; no payment given", "order"),
    ("NPA-NXX not served", "order"),
    ("%: %", "bad_entry"),
)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", activation.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_why", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["console_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"], unique=False
    )
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "last_failure_at", activation.store.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("locked_until", activation.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    # An account the old rule locked stays inactive (it cannot be told apart from one an admin
    # closed): an admin gives it back on the Users page, or `cas user add` resets it.

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", activation.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
    conn = op.get_bind()
    partners = sa.table(
        "partners",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("created_at", activation.store.db.UTCDateTime(timezone=True)),
    )
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.Integer()),
        sa.column("partner", sa.String()),
        sa.column("partner_id", sa.Integer()),
    )
    ids: dict[str, int] = {}
    for key_id, name in conn.execute(sa.select(keys.c.id, keys.c.partner).order_by(keys.c.id)):
        # The names as staff.partner_name() normalises them: " acme" and "Acme" are acme.
        normal = " ".join(name.split()).lower()[:40] or "partner"
        if normal not in ids:
            conn.execute(
                partners.insert().values(name=normal, created_at=sa.func.current_timestamp())
            )
            ids[normal] = conn.execute(
                sa.select(partners.c.id).where(partners.c.name == normal)
            ).scalar_one()
        conn.execute(keys.update().where(keys.c.id == key_id).values(partner_id=ids[normal]))
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("partner_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index(batch.f("ix_api_keys_partner_id"), ["partner_id"], unique=False)
        batch.create_foreign_key("fk_api_keys_partner_id", "partners", ["partner_id"], ["id"])
        batch.drop_column("partner")

    with op.batch_alter_table("escalations") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), server_default="other", nullable=False)
        )
    escalations = sa.table(
        "escalations", sa.column("reason", sa.String()), sa.column("kind", sa.String())
    )
    for pattern, kind in KIND_OF_REASON:
        conn.execute(
            escalations.update()
            .where(escalations.c.kind == "other", escalations.c.reason.like(pattern))
            .values(kind=kind)
        )


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("partner", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE api_keys SET partner = "
        "(SELECT name FROM partners WHERE partners.id = api_keys.partner_id)"
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("partner", existing_type=sa.String(length=40), nullable=False)
        batch.drop_constraint("fk_api_keys_partner_id", type_="foreignkey")
        batch.drop_index(batch.f("ix_api_keys_partner_id"))
        batch.drop_column("partner_id")
    op.drop_table("partners")
    op.drop_table("login_throttles")
    op.drop_index(op.f("ix_console_sessions_user_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
