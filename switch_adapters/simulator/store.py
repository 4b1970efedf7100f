"""The simulated switch's subscriber database: one SQLite file.

Every command is one transaction, so a crash or a dropped line never leaves half a subscriber.
A MID is held at most once and an ESN is in use on at most one MID, suspended lines included
(the subscriber stays on the switch while barred). Each subscriber has a state, ``active`` or
``suspended``. Iteration is ordered by MID and fetches in batches, so dumping a million
subscribers holds only one batch in memory. SQLite connections belong to one thread: each
simulator thread opens its own Store.

A file written before subscribers had a state is migrated in place when it is opened for
writing (every subscriber it holds is active); opened read-only, it reads as all active.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from switch_adapters.port import ACTIVE, STATES, Record, Subscriber

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriber (
    mid TEXT PRIMARY KEY,
    esn TEXT NOT NULL UNIQUE,
    features TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended'))
) WITHOUT ROWID;
"""
# What a file of the first layout lacks, added in place. SQLite cannot add a CHECK constraint
# to an existing table; the state is only ever written through this class, which checks it.
ADD_STATE = "ALTER TABLE subscriber ADD COLUMN state TEXT NOT NULL DEFAULT 'active'"
BATCH = 1000


class DuplicateMid(Exception):
    """The switch already holds this MID."""


class EsnActive(Exception):
    """The ESN is already in use on another MID."""


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
            self._migrate()
        # A file of the first layout, opened read-only, has no state: its lines are active.
        state = "state" if self._has_state() else f"'{ACTIVE}'"
        self._columns = f"mid, esn, features, {state}"

    def _has_state(self) -> bool:
        columns = self._db.execute("PRAGMA table_info(subscriber)").fetchall()
        return any(column[1] == "state" for column in columns)

    def _migrate(self) -> None:
        if self._has_state():
            return
        try:
            self._db.execute(ADD_STATE)
        except sqlite3.OperationalError:
            # Another simulator on the same file (a backup line) migrated it first.
            if not self._has_state():
                raise

    def insert(self, subscriber: Subscriber) -> None:
        """Add a subscriber; refuse a MID already held or an ESN already in use."""
        _check_state(subscriber.state)
        try:
            self._db.execute(
                "INSERT INTO subscriber (mid, esn, features, state) VALUES (?, ?, ?, ?)",
                (subscriber.mid, subscriber.esn, subscriber.features, subscriber.state),
            )
        except sqlite3.IntegrityError as exc:
            # SQLite names one violated constraint, not always the MID's when both are: a MID
            # already held is what a switch reports first.
            if "subscriber.mid" in str(exc) or self.get(subscriber.mid) is not None:
                raise DuplicateMid(subscriber.mid) from exc
            raise EsnActive(subscriber.esn) from exc

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> bool:
        """Change the ESN and/or features of a MID; tell whether it was held.

        An ESN in use on another MID is refused with EsnActive.
        """
        changes = {}
        if esn is not None:
            changes["esn"] = esn
        if features is not None:
            changes["features"] = features
        if not changes:
            return self.get(mid) is not None
        assignments = ", ".join(f"{name} = ?" for name in changes)
        try:
            cursor = self._db.execute(
                f"UPDATE subscriber SET {assignments} WHERE mid = ?", (*changes.values(), mid)
            )
        except sqlite3.IntegrityError as exc:
            raise EsnActive(esn or "") from exc
        return cursor.rowcount > 0

    def set_state(self, mid: str, state: str) -> str | None:
        """Put a held MID in a state; return the state it was in before (None: not held)."""
        _check_state(state)
        changed = self._db.execute(
            "UPDATE subscriber SET state = ? WHERE mid = ? AND state != ?", (state, mid, state)
        ).rowcount
        if changed:
            return next(s for s in STATES if s != state)
        held = self.get(mid)
        return None if held is None else held.state

    def delete(self, mid: str) -> bool:
        """Remove a MID; tell whether it was held."""
        return self._db.execute("DELETE FROM subscriber WHERE mid = ?", (mid,)).rowcount > 0

    def get(self, mid: str) -> Subscriber | None:
        """Return the subscriber on a MID, or None."""
        row = self._db.execute(
            f"SELECT {self._columns} FROM subscriber WHERE mid = ?", (mid,)
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

    def pages(self, after: str = "") -> Iterator[list[Record]]:
        """Stream every subscriber (after a MID) as (mid, esn, features, state) rows, by MID."""
        # Keyset pages rather than one open cursor: writers on other threads are not held up
        # by a long dump, and each page is a consistent read.
        query = f"SELECT {self._columns} FROM subscriber WHERE mid > ? ORDER BY mid LIMIT ?"
        while True:
            rows = self._db.execute(query, (after, BATCH)).fetchall()
            if rows:
                yield rows
            if len(rows) < BATCH:
                return
            after = rows[-1][0]

    def load(self, subscribers: Iterable[Subscriber]) -> int:
        """Add many subscribers in one transaction (seeding); return how many."""
        rows = ((s.mid, s.esn, s.features, _check_state(s.state)) for s in subscribers)
        with self._db:
            self._db.execute("BEGIN")
            cursor = self._db.executemany(
                "INSERT INTO subscriber (mid, esn, features, state) VALUES (?, ?, ?, ?)", rows
            )
        return cursor.rowcount

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_state(state: str) -> str:
    if state not in STATES:
        raise ValueError(f"a line is {' or '.join(STATES)}, not {state!r}")
    return state


__all__ = ["DuplicateMid", "EsnActive", "Store"]
