"""Wake an idle worker as soon as an activity is queued, rather than on its next poll.

On PostgreSQL a queued activity sends NOTIFY on a channel every idle worker LISTENs to (the
notice goes out when the queuing transaction commits, so a woken worker finds the row). A
worker still polls at its idle interval for what no notice announces: a retry coming due, a
lease running out. On SQLite there is no such channel and the worker polls alone.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text
from sqlalchemy.orm import Session

from activation.store.db import Database, is_postgres

CHANNEL = "cas_activities"
log = logging.getLogger("cas.worker")


_ANNOUNCED = "cas_announced"


def announce(session: Session) -> None:
    """Tell idle workers, once this session's transaction commits, that work is queued."""
    if session.get_bind().dialect.name != "postgresql":
        return
    root = session.get_transaction()
    if root is not None and session.info.get(_ANNOUNCED) is root:
        return  # one notice a transaction: PostgreSQL would fold a second into the first
    session.connection().execute(text(f"NOTIFY {CHANNEL}"))  # nothing pending to flush for it
    session.info[_ANNOUNCED] = root


class Wakeup:
    """What an idle worker waits on: a queued activity's notice, its idle time, or stop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn = None  # psycopg connection LISTENing; opened on first wait

    def wait(self, stop: threading.Event, idle: float) -> None:
        """Return when an activity was announced, `idle` seconds passed, or stop is set."""
        if not is_postgres(self.db.engine):
            stop.wait(idle)
            return
        try:
            conn = self._listening()
            # Wake at least every half second to see stop, whatever the idle interval.
            remaining = idle
            while remaining > 0 and not stop.is_set():
                slice_ = min(remaining, 0.5)
                if any(True for _ in conn.notifies(timeout=slice_, stop_after=1)):
                    return
                remaining -= slice_
        except Exception:  # the database went away: poll until it is back
            log.warning("worker: no activity notices (LISTEN failed); polling", exc_info=True)
            self.close()
            stop.wait(min(idle, 1.0))

    def listen(self) -> None:
        """Start listening now (PostgreSQL); a failure is reported and polled around by wait."""
        if is_postgres(self.db.engine):
            try:
                self._listening()
            except Exception:
                self.close()

    def _listening(self):  # type: ignore[no-untyped-def]
        if self._conn is None:
            import psycopg

            engine = self.db.engine
            args, kwargs = engine.dialect.create_connect_args(engine.url)
            self._conn = psycopg.connect(*args, **kwargs, autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def close(self) -> None:
        """Stop listening."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
