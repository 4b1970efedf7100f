"""Console users for the demo: one per role, with fresh passwords to print."""

from __future__ import annotations

from activation.service_layer.staff import ROLES, add_user
from activation.services import Services

DEMO_USERS = (("csr", "csr"), ("supervisor", "supervisor"), ("admin", "admin"))


def ensure_demo_users(services: Services) -> list[tuple[str, str, str]]:
    """Create (or reset) a console user per role; return (name, role, password) of each."""
    made = []
    with services.db.transaction() as session:
        for name, role in DEMO_USERS:
            assert role in ROLES
            made.append((name, role, add_user(session, name, role)))
    return made
