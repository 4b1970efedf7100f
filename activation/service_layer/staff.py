"""The people and machines beside the IVR: console users with roles, partners with API keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.secrets import hash_pin
from activation.service_layer.console_access import end_sessions
from activation.store import audit
from activation.store.staff import ROLES, ApiKey, ApiSession, ConsoleUser, Partner

_KEY_PREFIX = "cas"
_PREFIX = re.compile(r"[0-9a-f]{1,16}")
_PARTNER_NAME = re.compile(r"[a-z0-9][a-z0-9 .&'_-]{0,39}")


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
        end_sessions(session, user.id, "password set")  # the old password's sessions too
    user.role, user.password_hash = role, hash_pin(password)
    user.active, user.failed_logins = True, 0
    audit.record(session, "console_user", name, old, role, actor, "password set")
    return password


def change_user(
    session: Session, user: ConsoleUser, role: str, active: bool, actor: str
) -> list[str]:
    """Give a console user another role, or take away (or give back) the log-in; say what changed.

    The last active admin can neither lose the role nor the log-in: someone must be able to
    manage the console. A new role or a log-in taken away ends the user's sessions at once.
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
    if role != user.role or not active:
        end_sessions(session, user.id, ", ".join(changes))
    user.role, user.active = role, active
    if active:
        user.failed_logins = 0
    audit.record(
        session, "console_user", user.name, old, _standing(user), actor, ", ".join(changes)
    )
    return changes


def _standing(user: ConsoleUser) -> str:
    return f"{user.role}/{'active' if user.active else 'inactive'}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def partner_name(raw: str) -> str:
    """Return a partner's name as kept: spaces trimmed and single, lower case; ValueError if
    it is not 1 to 40 of the letters a-z, digits, spaces and . & ' - _ (starting with one
    of the first two), so " Acme" and "acme" name one partner and nothing else looks alike."""
    name = " ".join(raw.split()).lower()
    if not _PARTNER_NAME.fullmatch(name):
        raise ValueError(
            "a partner name has 1 to 40 letters a-z, digits, spaces and . & ' - _, "
            "and starts with a letter or digit"
        )
    return name


def add_api_key(session: Session, partner: str, actor: str = "cli") -> str:
    """Issue a new API key to a partner (a new partner row for a new name) and return it.

    The key cannot be shown again. Keys of one partner row share its transactions.
    """
    name = partner_name(partner)
    owner = session.scalar(select(Partner).where(Partner.name == name))
    if owner is None:
        owner = Partner(name=name)
        session.add(owner)
        session.flush()
        audit.record(session, "partner", name, None, "active", actor, "partner added")
    prefix = secrets.token_hex(4)
    key = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(ApiKey(partner=owner, prefix=prefix, key_hash=_digest(key), active=True))
    audit.record(session, "api_key", prefix, None, "active", actor, f"issued to {name}")
    return key


def revoke_api_key(session: Session, prefix: str, actor: str = "cli") -> ApiKey:
    """Stop an API key from working (a key given away or leaked); it stays listed."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix).with_for_update())
    if row is None:
        raise ValueError(f"no API key {prefix}")
    if not row.active:
        raise ValueError(f"API key {prefix} is revoked already")
    row.active = False
    audit.record(session, "api_key", prefix, "active", "revoked", actor, f"of {row.partner.name}")
    return row


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """Return the active API key row the presented key belongs to, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX or not _PREFIX.fullmatch(parts[1]):
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
    "Partner",
    "add_api_key",
    "add_user",
    "change_user",
    "find_api_key",
    "new_password",
    "partner_name",
    "revoke_api_key",
]
