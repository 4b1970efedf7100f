"""The two sides of the comparison, read in MID order, and their merge in one pass.

Rules of the merge, one switch at a time:

- Both sides come ordered by MID and are read once, in step; neither is ever held whole in
  memory (the database side through a streaming cursor, the switch side through its adapter's
  dump). Memory is what the in-flight insertions and one batch of findings take.
- A MID only CAS holds active is missing on the switch; one only the switch holds is unknown
  to CAS; one both hold is checked for ESN and (where the switch keeps them) features, CAS's
  features being the transaction's rate plan code, which is what the insertion sent.
- A MID with a switch insertion still queued or running, or one that finished while the run
  was under way, is in flight: reported, never a discrepancy.
- A MID the dump repeats is reported once per repeat; only its first line is compared.
- A switch that cannot be opened, or whose dump breaks, comes out of order or is garbled, is
  unreadable: named in the report, and since the part read may lack lines, nothing it did
  not show is reported missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select
from sqlalchemy.orm import Session

from switch_adapters.port import Subscriber

from .comparison_models import (
    DUPLICATE,
    ESN_MISMATCH,
    FEATURE_MISMATCH,
    IN_FLIGHT,
    MISSING_ON_SWITCH,
    UNKNOWN_TO_CAS,
    ComparisonFinding,
)
from .db import Database
from .models import Activity, TelephoneNumber, Transaction

log = logging.getLogger("cas.comparison")

FETCH = 5000  # database rows fetched at a time
FLUSH = 1000  # findings written at a time
TICK = 8192  # merge steps between two progress reports

# One row of CAS's side: MID, ESN, features (rate plan code), transaction id.
CasRow = tuple[str, str, str, int | None]


class DumpFailed(Exception):
    """The switch's dump could not be read to its end."""


class Findings:
    """Collects one switch's findings and writes them in batches."""

    def __init__(self, db: Database, run_id: int, switch: str, in_flight: dict[str, int]):
        self.db = db
        self.run_id = run_id
        self.switch = switch
        self.in_flight = in_flight
        self.in_flight_seen: set[str] = set()
        self.pending: list[dict[str, Any]] = []

    def add(
        self, kind: str, mid: str, cas: CasRow | None, sub: Subscriber | None, detail: str = ""
    ) -> None:
        """Record one finding."""
        self.pending.append(
            {
                "run_id": self.run_id,
                "switch_name": self.switch,
                "kind": kind,
                "mid": mid[:16],
                "cas_esn": cas[1] if cas else None,
                "switch_esn": sub.esn[:18] if sub else None,
                "cas_features": cas[2] if cas else None,
                "switch_features": sub.features[:80] if sub else None,
                "transaction_id": cas[3] if cas else None,
                "repair": "",
                "repair_ref": "",
                "detail": detail[:200],
            }
        )
        if len(self.pending) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write what is collected, telling for MIDs unknown to CAS how CAS does hold them."""
        if self.pending:
            with self.db.transaction() as session:
                self._explain_unknown(session)
                session.execute(insert(ComparisonFinding), self.pending)
            self.pending = []

    def _explain_unknown(self, session: Session) -> None:
        unknown = {f["mid"]: f for f in self.pending if f["kind"] == UNKNOWN_TO_CAS}
        if not unknown:
            return
        held = session.execute(
            select(
                TelephoneNumber.mid, TelephoneNumber.status, TelephoneNumber.transaction_id
            ).where(TelephoneNumber.mid.in_(sorted(unknown)))
        )
        for mid, status, transaction_id in held:
            unknown[mid]["detail"] = f"{status} in CAS"
            unknown[mid]["transaction_id"] = transaction_id
        for finding in unknown.values():
            finding["detail"] = finding["detail"] or "not in CAS's number inventory"

    def flying(
        self, mid: str, where: str, cas: CasRow | None = None, sub: Subscriber | None = None
    ) -> None:
        """Record a MID whose insertion is still under way."""
        self.in_flight_seen.add(mid)
        activity = self.in_flight[mid]
        self.add(IN_FLIGHT, mid, cas, sub, f"switch_insert activity {activity}; {where}")

    def cas_only(self, cas: CasRow) -> None:
        """CAS holds the MID active; the switch does not."""
        if cas[0] in self.in_flight:
            self.flying(cas[0], "active in CAS, not on the switch", cas)
        else:
            self.add(MISSING_ON_SWITCH, cas[0], cas, None)

    def switch_only(self, sub: Subscriber) -> None:
        """The switch holds the MID; CAS does not hold it active."""
        if sub.mid in self.in_flight:
            self.flying(sub.mid, "on the switch, not yet active in CAS", None, sub)
        else:
            self.add(UNKNOWN_TO_CAS, sub.mid, None, sub)

    def both(self, cas: CasRow, sub: Subscriber, keeps_features: bool) -> None:
        """Both hold the MID and something differs (or it is in flight)."""
        if sub.mid in self.in_flight:
            self.flying(sub.mid, "active in CAS and on the switch", cas, sub)
            return
        if cas[1] != sub.esn:
            self.add(ESN_MISMATCH, sub.mid, cas, sub)
        if keeps_features and cas[2] != sub.features:
            self.add(FEATURE_MISMATCH, sub.mid, cas, sub)

    def duplicate(self, sub: Subscriber, first: Subscriber) -> None:
        """The dump gave a MID again."""
        same = sub == first
        detail = "line repeated" if same else "repeated with other values; the first compared"
        self.add(DUPLICATE, sub.mid, None, sub, detail)


@dataclass
class Tally:
    """How far one merge got: CAS rows and dump lines taken, the last MID of the dump."""

    cas: int = 0
    lines: int = 0
    last_mid: str = ""


def merge(
    cas: Iterator[CasRow],
    dump: Iterator[Subscriber],
    out: Findings,
    tally: Tally,
    *,
    keeps_features: bool = True,
    tick: Callable[[int], None] | None = None,
) -> None:
    """Merge CAS's side with the switch's dump in one pass, recording every finding."""
    in_flight = out.in_flight
    c = next(cas, None)
    last: Subscriber | None = None
    lines = taken = 0
    try:
        for sub in dump:
            mid = sub.mid
            lines += 1
            if last is not None and mid <= last.mid:
                if mid == last.mid:
                    out.duplicate(sub, last)
                    continue
                raise DumpFailed(f"dump out of MID order: {mid} after {last.mid}")
            last = sub
            while c is not None and c[0] < mid:
                out.cas_only(c)
                taken += 1
                c = next(cas, None)
            if c is not None and c[0] == mid:
                if c[1] != sub.esn or (keeps_features and c[2] != sub.features) or mid in in_flight:
                    out.both(c, sub, keeps_features)
                taken += 1
                c = next(cas, None)
            else:
                out.switch_only(sub)
            if not lines % TICK and tick is not None:
                tally.cas, tally.lines, tally.last_mid = taken, lines, mid
                tick(taken)
        while c is not None:
            out.cas_only(c)
            taken += 1
            c = next(cas, None)
    finally:
        tally.cas, tally.lines = taken, lines
        tally.last_mid = last.mid if last is not None else ""


def guarded(dump: Iterator[Subscriber]) -> Iterator[Subscriber]:
    """Pass the dump through; any failure of it becomes DumpFailed."""
    try:
        yield from dump
    except DumpFailed:
        raise
    except Exception as exc:  # typed switch errors, and whatever else broke the line
        raise DumpFailed(f"{type(exc).__name__}: {exc}") from exc


# -- CAS's side --------------------------------------------------------------------------------


@contextmanager
def reader(db: Database) -> Iterator[Connection]:
    """A connection that streams CAS's side without holding anyone up.

    One read-only transaction (Database.read): on SQLite it takes no write lock, so calls go on
    writing under WAL while the run reads its snapshot; on PostgreSQL `yield_per` makes the
    rows come through a server-side cursor, a batch at a time.
    """
    with db.read() as session:
        yield session.connection()


def active_numbers(conn: Connection, blocks: Sequence[str]) -> Iterator[CasRow]:
    """Stream the active MIDs of the blocks with ESN, rate plan and transaction, by MID."""
    for block in sorted(blocks):
        # A MID starts with its NPA-NXX: block after block in order is MID order, and each
        # block is read along the (npa_nxx, status, mid) index with nothing to sort.
        query = (
            select(
                TelephoneNumber.mid,
                func.coalesce(Transaction.esn, ""),
                func.coalesce(Transaction.rate_plan_code, ""),
                Transaction.id,
            )
            .outerjoin(Transaction, Transaction.id == TelephoneNumber.transaction_id)
            .where(TelephoneNumber.npa_nxx == block, TelephoneNumber.status == "active")
            .order_by(TelephoneNumber.mid)
        )
        yield from conn.execution_options(yield_per=FETCH).execute(query)  # type: ignore[misc]


def count_active(db: Database, blocks: Sequence[str]) -> int:
    """Count the active MIDs of the blocks (the progress bar's total)."""
    if not blocks:
        return 0
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(TelephoneNumber)
                .where(TelephoneNumber.npa_nxx.in_(blocks), TelephoneNumber.status == "active")
            )
            or 0
        )


def last_activity_id(db: Database) -> int:
    """The newest activity's id: what is queued after it is queued during the run."""
    with db.read() as session:
        return int(session.scalar(select(func.max(Activity.id))) or 0)


def inserts_under_way(db: Database, switch_id: int, after_id: int | None = None) -> dict[str, int]:
    """MIDs with a switch insertion queued or running, by activity id.

    With `after_id`: every insertion queued after that activity, whatever became of it.
    """
    which: ColumnElement[bool] = (
        Activity.state.in_(("pending", "running")) if after_id is None else Activity.id > after_id
    )
    found: dict[str, int] = {}
    with db.read() as session:
        rows = session.execute(
            select(Activity.id, Activity.payload).where(Activity.type == "switch_insert", which)
        )
        for activity_id, payload in rows:
            if payload.get("switch_id") == switch_id:
                found[payload["subscriber"]["mid"]] = activity_id
    return found


__all__ = [
    "CasRow",
    "DumpFailed",
    "Findings",
    "Tally",
    "active_numbers",
    "count_active",
    "guarded",
    "inserts_under_way",
    "last_activity_id",
    "merge",
    "reader",
]
