"""The merge against a plain reference: any two sides, cut in any batches, find the same.

The merge compares whole stretches of records at once and steps MID by MID only where they
differ; the reference below looks at every MID through dictionaries. Hypothesis draws both
sides as (MID, ESN, features, state) records (with every kind of difference, suspended lines
on either side, repeats and MIDs in flight) and the batch sizes.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from activation.comparison.findings import Findings
from activation.comparison.merge import Tally, merge
from switch_adapters.port import Record


class Kept(Findings):
    """Findings kept in memory rather than written."""

    def __init__(self, in_flight: dict[str, str]) -> None:
        super().__init__(None, 1, "HOU1", in_flight)  # type: ignore[arg-type]
        self.kept: list[tuple[str, str]] = []

    def flush(self) -> None:
        self.kept += [(f["kind"], f["mid"]) for f in self.pending]
        self.pending = []


def reference(
    cas: list[Record], dump: list[Record], in_flight: set[str], keeps_features: bool
) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    first: dict[str, Record] = {}
    for record in dump:
        if record[0] in first:
            found["duplicate", record[0]] += 1
        else:
            first[record[0]] = record
    held = {record[0]: record for record in cas}
    for mid in sorted(set(held) | set(first)):
        ours, theirs = held.get(mid), first.get(mid)
        if mid in in_flight:
            found["in_flight", mid] += 1
        elif theirs is None:
            found["missing_on_switch", mid] += 1
        elif ours is None:
            found["unknown_to_cas", mid] += 1
        else:
            if ours[1] != theirs[1]:
                found["esn_mismatch", mid] += 1
            if keeps_features and ours[2] != theirs[2]:
                found["feature_mismatch", mid] += 1
            if ours[3] != theirs[3]:
                found["state_mismatch", mid] += 1
    return found


def cut(records: list[Record], sizes: list[int]) -> list[list[Record]]:
    batches, start, n = [], 0, 0
    while start < len(records):
        size = sizes[n % len(sizes)]
        batches.append(records[start : start + size])
        start, n = start + size, n + 1
    return batches


# What the switch does with each of CAS's numbers, and what it adds of its own.
FATES = ["same"] * 6 + [
    "missing",
    "esn",
    "features",
    "both",
    "state",
    "everything",
    "repeated",
    "repeated other",
]
STATES = ["active", "active", "suspended"]


@st.composite
def sides(draw: st.DrawFn) -> tuple[list[Record], list[Record], set[str]]:
    suffixes = draw(st.lists(st.integers(0, 400), max_size=120, unique=True))
    extra = set(draw(st.lists(st.integers(0, 400), max_size=20))) - set(suffixes)
    cas: list[Record] = []
    dump: list[Record] = []
    for suffix in sorted(set(suffixes) | extra):
        mid = f"713555{suffix:04d}"
        state = draw(st.sampled_from(STATES))
        record = (mid, f"138{suffix:08d}", "10", state)
        if suffix in extra:
            dump.append(record)
            continue
        cas.append(record)
        fate = draw(st.sampled_from(FATES))
        if fate == "missing":
            continue
        other = "active" if state == "suspended" else "suspended"
        line = {
            "esn": (mid, "13899999999", "10", state),
            "features": (mid, record[1], "20", state),
            "both": (mid, "13899999999", "20", state),
            "state": (mid, record[1], "10", other),
            "everything": (mid, "13899999999", "20", other),
        }.get(fate, record)
        dump.append(line)
        if fate == "repeated":
            dump.append(line)
        elif fate == "repeated other":
            dump.append((mid, "13800000001", "30", other))
    everything = [r[0] for r in cas] + [r[0] for r in dump]
    in_flight = (
        set(draw(st.lists(st.sampled_from(everything), max_size=5))) if everything else set()
    )
    return cas, dump, in_flight


@settings(max_examples=300, deadline=None)
@given(
    sides(),
    st.lists(st.integers(1, 40), min_size=1, max_size=4),
    st.lists(st.integers(1, 40), min_size=1, max_size=4),
    st.booleans(),
)
def test_the_merge_finds_what_the_reference_finds(drawn, cas_sizes, dump_sizes, keeps_features):
    cas, dump, in_flight = drawn
    out = Kept({mid: "switch_change activity 1 (suspend)" for mid in in_flight})
    tally = Tally()
    merge(cut(cas, cas_sizes), cut(dump, dump_sizes), out, tally, keeps_features=keeps_features)
    out.flush()
    assert Counter(out.kept) == reference(cas, dump, in_flight, keeps_features)
    assert (tally.cas, tally.lines) == (len(cas), len(dump))
    assert tally.last_mid == (dump[-1][0] if dump else "")
