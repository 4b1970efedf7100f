"""The database engine and sessions: SQLite embedded, PostgreSQL for several workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, Engine, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from activation.store.pg_cursor import DescribedCursor


class Base(DeclarativeBase):
    """Base of every CAS table."""


class UTCDateTime(TypeDecorator[datetime]):
    """A time stored as UTC and read back aware, on SQLite (which forgets zones) as elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: CAS stores aware UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and explicit write locking."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # BEGIN IMMEDIATE takes the write lock up front, so two workers never both read
            # the same free number and then collide on the write. Reads need no lock (WAL).
            read_only = conn.get_execution_options().get("cas_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(
        url, pool_size=5, max_overflow=5, connect_args={"cursor_factory": DescribedCursor}
    )
    _ping_when_idle(engine)
    return engine


# A pooled connection used this recently is taken as alive; one idle longer is pinged first.
IDLE_BEFORE_PING = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle, not on every checkout.

    A database restart leaves idle connections dead: the ping finds those and the pool
    replaces them. A connection checked in moments ago is busy traffic; pinging it on every
    checkout cost a round trip per webhook. Should one still be dead, the statement's error
    invalidates the pool and only that request fails.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info["cas_checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        idle_since = record.info.get("cas_checked_in")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return  # just connected, or back in the pool moments ago
        try:
            # The dialect's own ping, as pool_pre_ping uses: it leaves no transaction open.
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            # The pool discards this connection and checks out another.
            raise exc.DisconnectionError(str(error)) from error


def is_postgres(engine: Engine | Connection) -> bool:
    """Tell whether row locks with SKIP LOCKED are available."""
    return engine.dialect.name == "postgresql"


class Database:
    """One engine, and the two ways to use it: a write transaction, or a read.

    Nothing else opens a session: a write is `transaction()` (on SQLite it holds the write
    lock from its first statement), a read is `read()` (never the write lock, so a console
    page or an API poll rendering slowly blocks no caller).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a session in a transaction: commit on success, roll back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """Open a session whose every statement commits on its own (PostgreSQL): no BEGIN
        and no COMMIT round trip, for work whose writes are each one atomic statement. On
        SQLite it is a write transaction (`transaction()`)."""
        if not is_postgres(self.engine):
            with self.transaction() as session:
                yield session
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a session for reading only: on SQLite it takes no write lock."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(cas_read_only=True)
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
