"""Alembic environment: runs CAS's migrations on the configured database."""

from alembic import context
from sqlalchemy import create_engine

import activation.store  # noqa: F401  (registers every table on Base.metadata)
from activation.store.db import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
connection = config.attributes.get("connection")


def run() -> None:
    """Run the migrations online, on a given connection or a new engine."""
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
