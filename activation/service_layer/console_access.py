"""Console log-in: failed passwords throttled, and sessions kept as rows that end at once.

Throttles. A failed log-in counts against the account it named and the client address it came
from; a browser that logged in to that account before (it shows a device id the web layer
signed) counts against itself instead, so someone guessing the admin's password from
elsewhere cannot keep the admin out. Under each key the first few failures cost nothing; each
later one makes the next attempt wait twice as long, up to MAX_DELAY; LOCK_AFTER failures lock
the key for LOCK_TIME, after which it opens by itself. An attempt made while its key waits is
refused without looking at the password and is not counted, so hammering does not stretch a
lock. Failures are forgotten FORGET after the last one. Every failure and every lock is audited.

Sessions. Each log-in is a row; the cookie carries a random token of which only a hash is
kept. A session ends at log-out, after IDLE without a request, ABSOLUTE after the log-in, and
at once for every session of a user whose password, role or log-in changes (end_sessions).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from activation.secrets import check_pin
from activation.store import audit
from activation.store.db import Database
from activation.store.models import utcnow
from activation.store.staff import ConsoleSession, ConsoleUser, LoginThrottle

log = logging.getLogger("cas.console.access")

MAX_DELAY = timedelta(seconds=60)
LOCK_TIME = timedelta(minutes=15)
FORGET = timedelta(minutes=15)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class Policy:
    """How many failures under one key cost nothing, and how many lock it."""

    free: int
    lock_after: int


POLICIES = {
    "account": Policy(free=3, lock_after=10),
    "device": Policy(free=3, lock_after=10),
    # Several people may share an address (an office): it takes more before it waits.
    "address": Policy(free=10, lock_after=30),
}


class LogInRefused(Exception):
    """The log-in is refused; retry_after (seconds) when it is a wait, not a wrong password."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoggedIn:
    """A new console session: the token for the cookie, and whose it is."""

    token: str
    user_id: int
    name: str


def delay(policy: Policy, failures: int) -> timedelta:
    """The wait after `failures` failures in a row under a key of this policy."""
    if failures < policy.free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - policy.free)), MAX_DELAY)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keys(name: str, client: str, device: str | None) -> list[str]:
    if device:
        return [f"device:{device}"[:120]]
    return [f"account:{name.lower()}"[:120], f"address:{client}"[:120]]


def _policy(key: str) -> Policy:
    return POLICIES[key.split(":", 1)[0]]


def _throttle(session: Session, key: str) -> LoginThrottle:
    """The key's row, locked, made first if there is none (two log-ins may race to make it)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(key=key, failures=0).on_conflict_do_nothing())
    return session.get_one(LoginThrottle, key, with_for_update=True, populate_existing=True)


def _waits(row: LoginThrottle, now: datetime) -> int:
    """Seconds the key must still wait (0: an attempt may be made now)."""
    if row.last_failure_at is not None and now - row.last_failure_at > FORGET:
        row.failures, row.locked_until = 0, None
    until = row.locked_until
    if until is None or until <= now:
        last = row.last_failure_at or now
        until = last + delay(_policy(row.key), row.failures)
    return max(0, int((until - now).total_seconds() + 0.999))


def log_in(
    db: Database,
    name: str,
    password: str,
    client: str,
    device: str | None = None,
    now: datetime | None = None,
) -> LoggedIn:
    """Check a console log-in under the throttles and open a session; LogInRefused if not.

    The attempt is counted as a failure before the password is checked (outside any lock),
    so attempts sent at once wait for each other; a right password takes the count back.
    """
    now = now or utcnow()
    name, client = name.strip()[:40], client[:64]
    keys = _keys(name, client, device)
    with db.transaction() as session:
        rows = [_throttle(session, key) for key in keys]
        wait = max(_waits(row, now) for row in rows)
        if wait:
            log.warning("console log-in of %s from %s refused: wait %s s", name, client, wait)
            raise LogInRefused(f"Too many failed log-ins: try again in {wait} s.", wait)
        for row in rows:
            row.failures, row.last_failure_at = row.failures + 1, now
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
        stored = user.password_hash if user is not None and user.active else None
    matches = check_pin(password, stored or _dummy_hash())
    with db.transaction() as session:
        rows = [_throttle(session, key) for key in keys]
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
        if matches and user is not None and user.active and user.password_hash == stored:
            for row in rows:
                row.failures = row.failures - 1 if row.key.startswith("address:") else 0
            user.failed_logins, user.last_login_at = 0, now
            token = secrets.token_urlsafe(32)
            session.add(
                ConsoleSession(
                    token_hash=_digest(token),
                    user_id=user.id,
                    client=client,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            audit.record(session, "console_user", name, None, "logged_in", name, f"from {client}")
            return LoggedIn(token, user.id, user.name)
        _failed(session, name, client, user, rows, now)
    raise LogInRefused("That name and password do not match, or the log-in was taken away.")


def _failed(
    session: Session,
    name: str,
    client: str,
    user: ConsoleUser | None,
    rows: list[LoginThrottle],
    now: datetime,
) -> None:
    if user is not None:
        user.failed_logins += 1
    audit.record(session, "console_user", name or "?", None, "refused", "console", f"from {client}")
    for row in rows:
        if row.failures >= _policy(row.key).lock_after:
            row.locked_until = now + LOCK_TIME
            detail = f"{row.failures} failed log-ins; locked until {row.locked_until:%H:%M} UTC"
            audit.record(session, "console_login", row.key[:40], None, "locked", "console", detail)
    # Keys nobody failed under for a while are forgotten, so guessed names do not pile up.
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - FORGET,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    # An unknown name spends the time of a real check, so names cannot be probed by timing.
    if not _DUMMY:
        from activation.secrets import hash_pin

        _DUMMY.append(hash_pin(secrets.token_hex(8)))
    return _DUMMY[0]


def session_user(
    db: Database, token: str, now: datetime | None = None, touch: bool = True
) -> ConsoleUser | None:
    """Return the user of a live session (detached), or None; note the request as activity."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    with db.read() as session:
        found = select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
        row = session.scalar(found)
        if row is None or row.ended_at is not None:
            return None
        expired = now - row.created_at > ABSOLUTE or now - row.last_seen_at > IDLE
        user = None if expired else session.get(ConsoleUser, row.user_id)
        if user is not None:
            session.expunge(user)
    if expired:
        _end(db, row.id, "timed out", now)
        return None
    if user is None or not user.active:
        return None
    if touch and now - row.last_seen_at > TOUCH_EVERY:
        with db.transaction() as session:
            session.execute(
                update(ConsoleSession).where(ConsoleSession.id == row.id).values(last_seen_at=now)
            )
    return user


def _end(db: Database, session_id: int, why: str, now: datetime) -> None:
    with db.transaction() as session:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
            .values(ended_at=now, ended_why=why)
        )


def log_out(db: Database, token: str, now: datetime | None = None) -> None:
    """End the session the token opened (a copy of the cookie is worth nothing after)."""
    with db.transaction() as session:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == _digest(token), ConsoleSession.ended_at.is_(None))
            .values(ended_at=now or utcnow(), ended_why="logged out")
        )


def end_sessions(session: Session, user_id: int, why: str, now: datetime | None = None) -> int:
    """End every open session of a user at once; return how many there were."""
    ended = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), ended_why=why[:40])
    )
    return ended.rowcount  # type: ignore[attr-defined]
