"""The store: the database, every table, the migrations and the data loaded into them.

Importing the package registers every table on one metadata (Alembic and the tests need all).
"""

from activation.store import (  # noqa: F401
    comparison,
    followup,
    inventory,
    models,
    orders,
    salespeople,
    staff,
)
