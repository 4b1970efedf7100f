"""Where a partner key's order notices go, and the secret that signs them (kept encrypted)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from activation.services import Services
from activation.store import audit
from activation.store.orders import NotificationTarget


@dataclass(frozen=True)
class Target:
    """A registered notification URL; the secret is never shown again."""

    url: str


def register(services: Services, api_key_id: int, url: str, secret: str) -> Target:
    """Send this key's order notices to a URL, signed with a secret; replaces any earlier one."""
    with services.db.transaction() as session:
        target = session.scalar(
            select(NotificationTarget).where(NotificationTarget.api_key_id == api_key_id)
        )
        if target is None:
            target = NotificationTarget(api_key_id=api_key_id, failures=0)
            session.add(target)
        target.url, target.secret_encrypted = url, services.vault.encrypt(secret)
        audit.record(session, "api_key", str(api_key_id), None, "notified", "partner", url[:150])
    return Target(url)


def current(services: Services, api_key_id: int) -> Target | None:
    """The URL this key's notices go to, if any."""
    with services.db.read() as session:
        url = session.scalar(
            select(NotificationTarget.url).where(NotificationTarget.api_key_id == api_key_id)
        )
    return None if url is None else Target(url)


def stop(services: Services, api_key_id: int) -> None:
    """Send no more notices for this key (notices already queued go out)."""
    with services.db.transaction() as session:
        session.execute(
            delete(NotificationTarget).where(NotificationTarget.api_key_id == api_key_id)
        )
