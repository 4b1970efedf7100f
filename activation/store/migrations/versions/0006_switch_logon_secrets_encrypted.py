"""switch log-on secrets are kept encrypted, never in clear

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

A switch's log-on secret opens the switch to whoever reads it: it is now kept as a token of
CAS's vault (activation.secrets.Vault), like the SSN's copy. Encrypting the secrets already
held needs CAS's master secret, which `cas init-db` passes in; a database without switch
secrets upgrades without it.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

switches = sa.table(
    "switches",
    sa.column("id", sa.Integer),
    sa.column("logon_secret", sa.String),
    sa.column("logon_secret_encrypted", sa.String),
)


def _vault():  # type: ignore[no-untyped-def]
    vault = context.config.attributes.get("vault")
    if vault is None:
        raise RuntimeError(
            "switch log-on secrets are encrypted with CAS's master secret: "
            "upgrade with `cas init-db`, which has it"
        )
    return vault


def upgrade() -> None:
    bind = op.get_bind()
    held = bind.execute(
        sa.select(switches.c.id, switches.c.logon_secret).where(switches.c.logon_secret != "")
    ).all()
    vault: Any = _vault() if held else None  # before any change: a refusal leaves nothing half-done
    with op.batch_alter_table("switches") as batch_op:
        batch_op.add_column(
            sa.Column(
                "logon_secret_encrypted", sa.String(length=400), nullable=False, server_default=""
            )
        )
    for switch_id, secret in held:
        bind.execute(
            switches.update()
            .where(switches.c.id == switch_id)
            .values(logon_secret_encrypted=vault.encrypt(secret))
        )
    with op.batch_alter_table("switches") as batch_op:
        batch_op.drop_column("logon_secret")


def downgrade() -> None:
    bind = op.get_bind()
    held = bind.execute(
        sa.select(switches.c.id, switches.c.logon_secret_encrypted).where(
            switches.c.logon_secret_encrypted != ""
        )
    ).all()
    vault: Any = _vault() if held else None
    with op.batch_alter_table("switches") as batch_op:
        batch_op.add_column(
            sa.Column("logon_secret", sa.String(length=200), nullable=False, server_default="")
        )
    for switch_id, token in held:
        bind.execute(
            switches.update()
            .where(switches.c.id == switch_id)
            .values(logon_secret=vault.decrypt(token))
        )
    with op.batch_alter_table("switches") as batch_op:
        batch_op.drop_column("logon_secret_encrypted")
