"""An admin's use cases on the console's Users page: console users and partners' API keys.

Each runs in its own unit of work; a refusal is a ValueError whose text the admin reads.
Passwords and keys are returned once, to be shown once; only their hashes are kept.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.service_layer.csr import NotFound
from activation.service_layer.staff import (
    add_api_key,
    add_user,
    change_user,
    find_api_key,
    partner_name,
    revoke_api_key,
)
from activation.services import Services
from activation.store.models import utcnow
from activation.store.staff import ApiKey, ConsoleUser

# A key's last use is noted now and then, not on every request: a write per call is not worth it.
NOTE_USE_EVERY = timedelta(minutes=1)


def _user(session: Session, name: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name).with_for_update())
    if user is None:
        raise NotFound(f"No console user {name}.")
    return user


def create_user(services: Services, name: str, role: str, actor: str) -> str:
    """Add a console user; return the password to hand over."""
    with services.db.transaction() as session:
        if session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name)):
            raise ValueError(f"there is a user {name} already: reset the password")
        return add_user(session, name, role, actor=actor)


def reset_password(services: Services, name: str, actor: str) -> str:
    """Give a console user a new password (a locked log-in back too); return it."""
    with services.db.transaction() as session:
        user = _user(session, name)
        return add_user(session, user.name, user.role, actor=actor)


def set_standing(services: Services, name: str, role: str, active: bool, actor: str) -> list[str]:
    """Change a user's role, or take the log-in away or give it back; say what changed."""
    with services.db.transaction() as session:
        return change_user(session, _user(session, name), role, active, actor)


def issue_key(services: Services, partner: str, actor: str) -> tuple[str, str]:
    """Issue an API key to a partner; return the partner's name as kept and the key."""
    with services.db.transaction() as session:
        return partner_name(partner), add_api_key(session, partner, actor=actor)


def revoke_key(services: Services, prefix: str, actor: str) -> str:
    """Revoke an API key at once; return its partner's name."""
    with services.db.transaction() as session:
        return revoke_api_key(session, prefix, actor).partner.name


def key_holder(services: Services, key: str) -> tuple[int, int, str] | None:
    """The (key id, partner id, partner name) a presented API key belongs to, or None."""
    with services.db.transaction() as session:
        row = find_api_key(session, key)
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > NOTE_USE_EVERY:
            session.get_one(ApiKey, row.id).last_used_at = now
        return row.id, row.partner_id, row.partner.name
