"""The demo's data dir: one demo at a time, its card, and starting over.

The card (demo.json) tells the other commands run from the same folder how to reach the
running demo (`cas dial` takes its URL and auth token from it). It also marks the folder as
the demo's: a folder holding a CAS database without a card is someone's real data, which the
demo neither uses nor wipes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from activation.store.schema import DatabaseMissing, require

CARD = "demo.json"
LOCK = "demo.lock"


class FolderRefused(Exception):
    """The demo cannot use this data dir; the message says why and what to do."""


@dataclass(frozen=True)
class DemoCard:
    """How to reach the demo that runs (or ran) on a data dir."""

    url: str
    auth_token: str
    account_sid: str
    phone_url: str  # the stand-in for Twilio's API, where call-backs ring
    pid: int
    # CAS_<PARTY>_URL and _TOKEN of the outside parties' simulators the demo started
    partners: dict[str, str] = field(default_factory=dict)

    def write(self, data_dir: Path) -> None:
        """Write the card (readable by its owner only: it holds the demo's auth token)."""
        path = data_dir / CARD
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(self), fh, indent=2)
        os.replace(tmp, path)

    @classmethod
    def read(cls, data_dir: Path) -> DemoCard | None:
        """Return the card of a data dir, or None when no demo ran there."""
        try:
            fields = json.loads((data_dir / CARD).read_text())
            return cls(**fields)
        except (OSError, ValueError, TypeError):
            return None


def claim(data_dir: Path, db_url: str, fresh: bool) -> IO[str]:
    """Take the data dir for this demo (emptied first when `fresh`); keep the returned lock open.

    Refused when another demo runs on it, or when it holds a database the demo did not make.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = (data_dir / LOCK).open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        card = DemoCard.read(data_dir)
        running = f" (pid {card.pid}, at {card.url})" if card else ""
        raise FolderRefused(
            f"a demo already runs on {data_dir}{running}: stop it first, or give this one "
            "its own --data-dir"
        ) from None
    ours = (data_dir / CARD).exists()
    if not ours and _has_database(db_url):
        lock.close()
        raise FolderRefused(
            f"{data_dir} holds a CAS database that `cas demo` did not create; the demo leaves "
            "it alone. Give the demo another folder with --data-dir DIR."
        )
    if fresh and ours:
        for entry in data_dir.iterdir():
            if entry.name == LOCK:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    return lock


def _has_database(db_url: str) -> bool:
    try:
        require(db_url)
    except DatabaseMissing:
        return False
    return True


def lend_partners(data_dir: Path) -> None:
    """Point this process at the demo's outside parties, for what the environment leaves unset.

    The commands run in the demo's folder (cas compare, cas letter) then reach the same
    bureau, billing and E911 simulators as the demo's own worker.
    """
    card = DemoCard.read(data_dir)
    if card is None:
        return
    for name, value in card.partners.items():
        os.environ.setdefault(name, value)
