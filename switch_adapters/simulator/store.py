"""The simulated switch's subscriber database: one SQLite file.

Every command is one transaction, so a crash or a dropped line never leaves half a subscriber.
A MID is held at most once and an ESN is active on at most one MID. Iteration is ordered by MID
and fetches in batches, so dumping a million subscribers holds only one batch in memory.
SQLite connections belong to one thread: each simulator thread opens its own Store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from switch_adapters.port import Subscriber

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriber (
    mid TEXT PRIMARY KEY,
    esn TEXT NOT NULL UNIQUE,
    features TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
"""
BATCH = 1000


class DuplicateMid(Exception):
    """The switch already holds this MID."""


class EsnActive(Exception):
    """The ESN is already active on another MID."""


class Store:
    """A connection to the subscriber database file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        else:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def insert(self, subscriber: Subscriber) -> None:
        """Add a subscriber; refuse a MID already held or an ESN already active."""
        try:
            self._db.execute(
                "INSERT INTO subscriber (mid, esn, features) VALUES (?, ?, ?)",
                (subscriber.mid, subscriber.esn, subscriber.features),
            )
        except sqlite3.IntegrityError as exc:
            # SQLite names one violated constraint, not always the MID's when both are: a MID
            # already held is what a switch reports first.
            if "subscriber.mid" in str(exc) or self.get(subscriber.mid) is not None:
                raise DuplicateMid(subscriber.mid) from exc
            raise EsnActive(subscriber.esn) from exc

    def delete(self, mid: str) -> bool:
        """Remove a MID; tell whether it was held."""
        return self._db.execute("DELETE FROM subscriber WHERE mid = ?", (mid,)).rowcount > 0

    def get(self, mid: str) -> Subscriber | None:
        """Return the subscriber on a MID, or None."""
        row = self._db.execute(
            "SELECT mid, esn, features FROM subscriber WHERE mid = ?", (mid,)
        ).fetchone()
        return Subscriber(*row) if row else None

    def count(self) -> int:
        """Return how many subscribers the switch holds."""
        return int(self._db.execute("SELECT count(*) FROM subscriber").fetchone()[0])

    def __iter__(self) -> Iterator[Subscriber]:
        """Stream every subscriber, ordered by MID, a batch at a time."""
        for page in self.pages():
            for row in page:
                yield Subscriber(*row)

    def pages(self) -> Iterator[list[tuple[str, str, str]]]:
        """Stream every subscriber as (mid, esn, features) rows, ordered by MID, page by page."""
        # Keyset pages rather than one open cursor: writers on other threads are not held up
        # by a long dump, and each page is a consistent read.
        after = ""
        while True:
            rows = self._db.execute(
                "SELECT mid, esn, features FROM subscriber WHERE mid > ? ORDER BY mid LIMIT ?",
                (after, BATCH),
            ).fetchall()
            if rows:
                yield rows
            if len(rows) < BATCH:
                return
            after = rows[-1][0]

    def load(self, subscribers: Iterable[Subscriber]) -> int:
        """Add many subscribers in one transaction (seeding); return how many."""
        rows = ((s.mid, s.esn, s.features) for s in subscribers)
        with self._db:
            self._db.execute("BEGIN")
            cursor = self._db.executemany(
                "INSERT INTO subscriber (mid, esn, features) VALUES (?, ?, ?)", rows
            )
        return cursor.rowcount

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["DuplicateMid", "EsnActive", "Store"]
