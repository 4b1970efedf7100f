"""The people and machines beside the IVR: console users with roles, partners with API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.secrets import check_pin, hash_pin
from activation.store import audit
from activation.store.models import utcnow
from activation.store.staff import ROLES, ApiKey, ApiSession, ConsoleUser

# Failed console log-ons in a row before the account is locked (an admin unlocks it).
MAX_LOGIN_FAILURES = 10
_KEY_PREFIX = "cas"


def new_password() -> str:
    """Return a fresh password that is easy to read aloud and hard to guess."""
    return "-".join(secrets.token_hex(3) for _ in range(3))


def add_user(
    session: Session, name: str, role: str, password: str | None = None, actor: str = "cli"
) -> str:
    """Create a console user (or reset an existing one) and return the password to hand over."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 40:
        raise ValueError("a user name has 1 to 40 characters")
    password = password or new_password()
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
    old = None
    if user is None:
        user = ConsoleUser(name=name, role=role, password_hash="", active=True, failed_logins=0)
        session.add(user)
    else:
        old = user.role
    user.role, user.password_hash = role, hash_pin(password)
    user.active, user.failed_logins = True, 0
    audit.record(session, "console_user", name, old, role, actor, "password set")
    return password


def change_user(
    session: Session, user: ConsoleUser, role: str, active: bool, actor: str
) -> list[str]:
    """Give a console user another role, or take away (or give back) the log-in; say what changed.

    The last active admin can neither lose the role nor the log-in: someone must be able to
    manage the console. Giving the log-in back clears the failed log-ons that locked it.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    changes = []
    if role != user.role:
        changes.append(f"role {user.role} -> {role}")
    if active != user.active:
        changes.append("log-in given back" if active else "log-in taken away")
    if not changes:
        return []
    if user.role == "admin" and user.active and not (role == "admin" and active):
        admins = session.scalars(
            select(ConsoleUser.id).where(ConsoleUser.role == "admin", ConsoleUser.active.is_(True))
        ).all()
        if len(admins) <= 1:
            raise ValueError(f"{user.name} is the last active admin")
    old = _standing(user)
    user.role, user.active = role, active
    if active:
        user.failed_logins = 0
    audit.record(
        session, "console_user", user.name, old, _standing(user), actor, ", ".join(changes)
    )
    return changes


def _standing(user: ConsoleUser) -> str:
    return f"{user.role}/{'active' if user.active else 'inactive'}"


def authenticate(session: Session, name: str, password: str) -> ConsoleUser | None:
    """Return the user whose name and password match, counting failures toward a lock."""
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name).with_for_update())
    if user is None:
        # Spend the same time as a real check, so a name cannot be probed by timing.
        check_pin(password, _dummy_hash())
        return None
    if not user.active:
        return None
    if not check_pin(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= MAX_LOGIN_FAILURES:
            user.active = False
            audit.record(session, "console_user", name, "active", "locked", "console", "log-ons")
        return None
    user.failed_logins = 0
    user.last_login_at = utcnow()
    return user


@cache
def _dummy_hash() -> str:
    return hash_pin(secrets.token_hex(8))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_api_key(session: Session, partner: str, actor: str = "cli") -> str:
    """Issue a new API key for a partner and return it (it cannot be shown again)."""
    if not partner or len(partner) > 40:
        raise ValueError("a partner name has 1 to 40 characters")
    prefix = secrets.token_hex(4)
    key = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(ApiKey(partner=partner, prefix=prefix, key_hash=_digest(key), active=True))
    audit.record(session, "api_key", prefix, None, "active", actor, f"issued to {partner}")
    return key


def revoke_api_key(session: Session, prefix: str, actor: str = "cli") -> ApiKey:
    """Stop an API key from working (a key given away or leaked); it stays listed."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix).with_for_update())
    if row is None:
        raise ValueError(f"no API key {prefix}")
    if not row.active:
        raise ValueError(f"API key {prefix} is revoked already")
    row.active = False
    audit.record(session, "api_key", prefix, "active", "revoked", actor, f"of {row.partner}")
    return row


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """Return the active API key row the presented key belongs to, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX or len(parts[1]) > 16:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or not row.active or not hmac.compare_digest(row.key_hash, _digest(key)):
        return None
    return row


__all__ = [
    "ROLES",
    "ApiKey",
    "ApiSession",
    "ConsoleUser",
    "add_api_key",
    "add_user",
    "authenticate",
    "change_user",
    "find_api_key",
    "new_password",
    "revoke_api_key",
]
