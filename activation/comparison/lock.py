"""Never two comparisons at once: one lock row with an expiry, renewed while a run lives.

The row outlives a crashed run only until it expires, so a dead host never blocks the nightly
run for longer than the lease. It works the same on SQLite and PostgreSQL: the insert of the
row is the atomic step (its primary key refuses a second one), and taking over an expired row
is a conditional update that only one contender can win.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from activation.store.comparison import ComparisonLock
from activation.store.db import Database
from activation.store.models import utcnow

LOCK_NAME = "comparison"
LEASE = timedelta(minutes=10)


class ComparisonRunning(Exception):
    """Another comparison holds the lock."""

    def __init__(self, holder: str, since: datetime | None, until: datetime | None) -> None:
        since_text = f" since {since:%Y-%m-%d %H:%M:%S} UTC" if since else ""
        super().__init__(f"a comparison is already running ({holder}{since_text})")
        self.holder = holder
        self.since = since
        self.until = until


class LockLost(Exception):
    """The lock expired and another run took it: this run must stop."""


class RunLock:
    """The comparison lock, held by this process until released or expired."""

    def __init__(self, db: Database, lease: timedelta = LEASE, name: str = LOCK_NAME) -> None:
        self.db = db
        self.lease = lease
        self.name = name
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._renewed = 0.0

    def acquire(self) -> None:
        """Take the lock, or raise ComparisonRunning when a live run holds it."""
        now = utcnow()
        try:
            with self.db.transaction() as session:
                held = session.scalar(
                    select(ComparisonLock).where(ComparisonLock.name == self.name)
                )
                if held is None:
                    session.add(
                        ComparisonLock(
                            name=self.name,
                            holder=self.holder,
                            acquired_at=now,
                            expires_at=now + self.lease,
                        )
                    )
                    session.flush()
                elif held.expires_at > now:
                    raise ComparisonRunning(held.holder, held.acquired_at, held.expires_at)
                else:
                    taken = session.execute(
                        update(ComparisonLock)
                        .where(ComparisonLock.name == self.name, ComparisonLock.expires_at <= now)
                        .values(
                            holder=self.holder,
                            run_id=None,
                            acquired_at=now,
                            expires_at=now + self.lease,
                        )
                    )
                    if taken.rowcount != 1:  # type: ignore[attr-defined]
                        raise ComparisonRunning("another run taking over", None, None)
        except IntegrityError:
            # Two runs inserted the row at the same moment; the other one won.
            raise ComparisonRunning("another run starting", None, None) from None
        self._renewed = time.monotonic()

    def renew(self, run_id: int | None = None, *, force: bool = False) -> None:
        """Push the expiry out (at most every quarter lease unless forced); raise if lost."""
        if not force and time.monotonic() - self._renewed < self.lease.total_seconds() / 4:
            return
        values: dict[str, object] = {"expires_at": utcnow() + self.lease}
        if run_id is not None:
            values["run_id"] = run_id
        with self.db.transaction() as session:
            kept = session.execute(
                update(ComparisonLock)
                .where(ComparisonLock.name == self.name, ComparisonLock.holder == self.holder)
                .values(**values)
            )
            if kept.rowcount != 1:  # type: ignore[attr-defined]
                raise LockLost(f"the comparison lock was taken over while {self.holder} ran")
        self._renewed = time.monotonic()

    def release(self) -> None:
        """Give the lock back (only if this process still holds it)."""
        with self.db.transaction() as session:
            session.execute(
                delete(ComparisonLock).where(
                    ComparisonLock.name == self.name, ComparisonLock.holder == self.holder
                )
            )


__all__ = ["LEASE", "LOCK_NAME", "ComparisonRunning", "LockLost", "RunLock"]
