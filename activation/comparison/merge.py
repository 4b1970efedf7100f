"""The merge of CAS's side with a switch's dump, in one pass.

Rules of the merge, one switch at a time:

- Both sides come ordered by MID as batches of records, (MID, ESN, features, state), and are read
  once, in step; neither is ever held whole in memory (CAS's side through a streaming cursor,
  comparison.cas_side; the switch's through its adapter's dump). Memory is what the MIDs in
  flight, a batch of each side and a batch of findings take.
- A MID only CAS holds in service is missing on the switch; one only the switch holds is
  unknown to CAS; one both hold is checked for ESN, (where the switch keeps them) features, and
  state: CAS's features are the line's rate plan code, its state suspended for a suspended
  line and active otherwise, the values as the line's last completed order left them.
- A MID with switch work queued or running (an insertion, a change, a removal), or queued
  while the run was under way, or whose line has an order open, is in flight: reported, never
  a discrepancy (comparison.in_flight).
- A MID the dump repeats is reported once per repeat; only its first line is compared.
- A switch that cannot be opened, or whose dump breaks, comes out of order or is garbled, is
  unreadable: named in the report, and since the part read may lack lines, nothing it did
  not show is reported missing.

Nearly every MID is the same on both sides, so the merge first compares a whole stretch of
each side at once (two lists of records, compared in C) and steps through MID by MID only
where a stretch differs, from its first difference.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from activation.comparison.findings import Findings
from switch_adapters.port import Record, Subscriber, batched_records

TICK = 8192  # records of both sides taken between two progress reports

T = TypeVar("T")


class DumpFailed(Exception):
    """The switch's dump could not be read to its end."""


@dataclass
class Tally:
    """How far one merge got: CAS rows and dump lines taken, the last MID of the dump."""

    cas: int = 0
    lines: int = 0
    last_mid: str = ""


class _Dumps(Protocol):
    def dump(self) -> Iterator[Subscriber]: ...


def dump_records(session: _Dumps) -> Iterator[list[Record]]:
    """A switch session's dump as batches of records: its bulk read where it has one."""
    bulk: Callable[[], Iterator[list[Record]]] | None = getattr(session, "dump_records", None)
    return bulk() if bulk is not None else batched_records(session.dump())


def guarded(dump: Iterable[T]) -> Iterator[T]:
    """Pass the dump through; any failure of it becomes DumpFailed."""
    try:
        yield from dump
    except DumpFailed:
        raise
    except Exception as exc:  # typed switch errors, and whatever else broke the line
        raise DumpFailed(f"{type(exc).__name__}: {exc}") from exc


def merge(
    cas: Iterable[list[Record]],
    dump: Iterable[list[Record]],
    out: Findings,
    tally: Tally,
    *,
    keeps_features: bool = True,
    tick: Callable[[int], None] | None = None,
) -> None:
    """Merge CAS's side with the switch's dump in one pass, recording every finding."""
    _Merge(iter(cas), iter(dump), out, tally, keeps_features, tick).run()


class _Merge:
    """One merge's state: the batch of each side in hand and how far into it."""

    def __init__(
        self,
        cas: Iterator[list[Record]],
        dump: Iterator[list[Record]],
        out: Findings,
        tally: Tally,
        keeps_features: bool,
        tick: Callable[[int], None] | None,
    ) -> None:
        self.cas_batches, self.dump_batches = cas, dump
        self.out, self.tally = out, tally
        self.keeps_features, self.tick = keeps_features, tick
        self.flying = sorted(out.in_flight)
        self.c: list[Record] = []  # CAS's batch in hand, and the next record of it
        self.i = 0
        self.d: list[Record] = []  # the dump's batch in hand, and its next line
        self.j = 0
        self.cas_done = self.dump_done = False
        self.taken = self.lines = 0
        self.last: Record | None = None  # the dump's last line taken (not a repeat)
        self.next_tick = TICK

    def run(self) -> None:
        try:
            while self._fill():
                self._stretch()
                if self.taken + self.lines >= self.next_tick:
                    self._report()
        finally:
            self._report(final=True)

    def _fill(self) -> bool:
        """Have a record of each side in hand where the side has one; False when both ended."""
        while not self.cas_done and self.i == len(self.c):
            batch = next(self.cas_batches, None)
            if batch is None:
                self.cas_done = True
            else:
                self.c, self.i = batch, 0
        while not self.dump_done and self.j == len(self.d):
            batch = next(self.dump_batches, None)
            if batch is None:
                self.dump_done = True
            else:
                self.d, self.j = batch, 0
        return not (self.cas_done and self.dump_done)

    def _stretch(self) -> None:
        """Take the longest equal stretch of both sides at once, then one step if they differ."""
        if not self.cas_done and not self.dump_done:
            c, d, i, j = self.c, self.d, self.i, self.j
            k = min(len(c) - i, len(d) - j)
            # No stretch passes a MID in flight: that one is reported whatever it holds.
            f = bisect_left(self.flying, c[i][0])
            if f < len(self.flying):
                k = min(k, bisect_left(c, (self.flying[f],), i, i + k) - i)
            same = k if c[i : i + k] == d[j : j + k] else _equal_prefix(c, i, d, j, k)
            if same:
                self.i, self.j = i + same, j + same
                self.taken += same
                self.lines += same
                self.last = d[j + same - 1]
            if same == k and k:
                return
        self._step()

    def _step(self) -> None:
        """Take one record (or a pair of the same MID) and record what differs."""
        out = self.out
        sub = None if self.dump_done else self.d[self.j]
        cas = None if self.cas_done else self.c[self.i]
        if sub is not None:
            last = self.last
            if last is not None and sub[0] <= last[0]:
                if sub[0] != last[0]:
                    raise DumpFailed(f"dump out of MID order: {sub[0]} after {last[0]}")
                out.duplicate(sub, last)
                self.j += 1
                self.lines += 1
                return
        if cas is not None and (sub is None or cas[0] < sub[0]):
            out.cas_only(cas)
            self.i += 1
            self.taken += 1
            return
        assert sub is not None
        if cas is not None and cas[0] == sub[0]:
            if (
                cas[1] != sub[1]
                or (self.keeps_features and cas[2] != sub[2])
                or cas[3] != sub[3]
                or sub[0] in out.in_flight
            ):
                out.both(cas, sub, self.keeps_features)
            self.i += 1
            self.taken += 1
        else:
            out.switch_only(sub)
        self.j += 1
        self.lines += 1
        self.last = sub

    def _report(self, final: bool = False) -> None:
        tally = self.tally
        tally.cas, tally.lines = self.taken, self.lines
        tally.last_mid = self.last[0] if self.last is not None else ""
        if not final:
            self.next_tick = self.taken + self.lines + TICK
            if self.tick is not None:
                self.tick(self.taken)


def _equal_prefix(c: list[Any], i: int, d: list[Any], j: int, k: int) -> int:
    """How many records from c[i] and d[j] on are the same, of the k compared (bisected)."""
    low, high = 0, k  # c[i:i+low] == d[j:j+low]; the first `high` differ somewhere
    while high - low > 1:
        middle = (low + high) // 2
        if c[i + low : i + middle] == d[j + low : j + middle]:
            low = middle
        else:
            high = middle
    return low


__all__ = ["DumpFailed", "TICK", "Tally", "dump_records", "guarded", "merge"]
