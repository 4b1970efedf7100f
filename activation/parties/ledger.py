"""What a partner simulator keeps on disk: one entry per id, ordered by MID, and its keys.

A SQLite file, so a simulator process and a test (or an in-process simulator) can share it,
every thread of the HTTP server may write, and a listing reads in MID order by index. Keyed
requests remember their answer in the same transaction as their work: a crash leaves both
or neither. A key's answer is remembered while the entry it concerns stands unchanged:
writing or removing an entry forgets the keys of the entry's earlier requests, so a record
deleted (or changed and changed back) is written anew, never answered from an old memory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    mid TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_mid ON entries (mid, id);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    answer BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_by_entry ON idempotency (entry_id);
"""


@dataclass(frozen=True)
class Remembered:
    """The first answer given to an idempotency key."""

    fingerprint: str
    status: int
    body: bytes


class Ledger:
    """Entries by id (a transaction code, a MID), each filed under a MID."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per thread, kept open: closing the last one checkpoints the WAL to
        # disk, which would cost every request a sync.
        self._local = threading.local()
        conn = self._connect()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")  # a simulator: durable enough in WAL
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: writers queue, readers go on)."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def get(self, id_: str, conn: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        """The entry of an id, or None (read within `conn`'s transaction when given)."""
        reader = conn or self._connect()
        row = reader.execute("SELECT body FROM entries WHERE id = ?", (id_,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, conn: sqlite3.Connection, id_: str, mid: str, entry: dict[str, Any]) -> bool:
        """File (or replace) an entry; tell whether it is new."""
        existed = conn.execute("SELECT 1 FROM entries WHERE id = ?", (id_,)).fetchone()
        conn.execute("DELETE FROM idempotency WHERE entry_id = ?", (id_,))
        conn.execute(
            "INSERT INTO entries (id, mid, body) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET mid = excluded.mid, body = excluded.body",
            (id_, mid, json.dumps(entry, sort_keys=True)),
        )
        return existed is None

    def take(self, conn: sqlite3.Connection, id_: str) -> dict[str, Any] | None:
        """Remove an entry; return it, or None when there was none."""
        row = conn.execute("SELECT body FROM entries WHERE id = ?", (id_,)).fetchone()
        if row is None:
            return None
        conn.execute("DELETE FROM entries WHERE id = ?", (id_,))
        conn.execute("DELETE FROM idempotency WHERE entry_id = ?", (id_,))
        return json.loads(row[0])

    def after(self, cursor: tuple[str, str] | None, limit: int) -> list[tuple[str, str, Any]]:
        """Up to `limit` entries after (mid, id) in MID order: (mid, id, entry) each."""
        mid, id_ = cursor or ("", "")
        rows = (
            self._connect()
            .execute(
                "SELECT mid, id, body FROM entries WHERE (mid, id) > (?, ?) "
                "ORDER BY mid, id LIMIT ?",
                (mid, id_, limit),
            )
            .fetchall()
        )
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def every(self) -> list[dict[str, Any]]:
        """Every entry, ordered by id."""
        rows = self._connect().execute("SELECT body FROM entries ORDER BY id").fetchall()
        return [json.loads(row[0]) for row in rows]

    def remembered(self, conn: sqlite3.Connection, key: str) -> Remembered | None:
        """The answer first given to a key, or None."""
        row = conn.execute(
            "SELECT fingerprint, status, answer FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else Remembered(row[0], int(row[1]), bytes(row[2]))

    def remember(
        self,
        conn: sqlite3.Connection,
        key: str,
        entry_id: str,
        fingerprint: str,
        status: int,
        body: bytes,
    ) -> None:
        """Keep a key's answer for its repeats, while the entry it concerns stands."""
        conn.execute(
            "INSERT INTO idempotency (key, entry_id, fingerprint, status, answer) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, entry_id, fingerprint, status, body),
        )
