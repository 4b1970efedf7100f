"""A dump's DumpRecords written and read a run at a time, by hand, as pyasn1 lays them out.

A dump of a million subscribers is a million DumpRecords under one invoke id, each behind its
4-octet length. ``dump_page`` writes many at once and ``dump_run`` reads, in one pass, the
longest run of them at the head of what came, as records (mid, esn, features, state). The
rules are ber_direct's: the octets are exactly pyasn1's, and anything else (a value outside the
module, another layout, a frame not whole) is left to the message-by-message path. Each frame
read is checked against the lengths its values give; the first that fails ends the run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from switch_adapters.ber_direct import MAX_ID, PRINTABLE, SUSPENDED_OCTETS, integer_octets
from switch_adapters.port import ACTIVE, SUSPENDED, Record


@dataclass(frozen=True)
class _DumpLayout:
    """How the DumpRecords of one invoke id are laid out, as latin-1 text (an octet a char)."""

    run: re.Pattern[str]  # the longest run of them
    frame: re.Pattern[str]  # one, in groups: head, mid, esn, length of features, features, state
    heads: dict[str, dict[str, int]]  # by state octets: frame head -> length of features
    head_of: dict[str, list[str]]  # by state: frame head for each length of features


@lru_cache(maxsize=16)
def _layout(invoke_id: int) -> _DumpLayout:
    number = integer_octets(invoke_id).decode("latin-1")
    heads: dict[str, dict[str, int]] = {}
    head_of: dict[str, list[str]] = {}
    for state, tail in ((ACTIVE, ""), (SUSPENDED, SUSPENDED_OCTETS.decode("latin-1"))):
        lengths = heads[tail] = {}
        for size in range(33):
            record = 27 + size + len(tail)  # mid 12, esn 13, features 2 + size, the state
            body = 2 + len(number) + 2 + record  # the invoke id, then the record
            head = f"\x00\x00\x00{chr(body + 2)}\x64{chr(body)}\x02{chr(len(number))}"
            head += f"{number}\xa0{chr(record)}"
            lengths[head] = size
            head_of.setdefault(state, []).append(head)

    def frame(group: str) -> str:
        """The frame's pattern; group is "(" to capture its parts, "(?:" not to."""
        prefix = re.escape(chr(len(number)) + number)
        head = f"\x00\x00\x00[\x00-\x7f]\x64[\x00-\x7f]\x02{prefix}\xa0[\x00-\x7f]"
        features = "[" + re.escape(PRINTABLE) + "]*+"
        state = re.escape(SUSPENDED_OCTETS.decode("latin-1"))
        return (
            f"{group}{head})\x80\n{group}[0-9]{{10}})\x81\x0b{group}[0-9]{{11}})"
            f"\x82{group}[\x00-\x20]){group}{features}){group}(?:{state})?)"
        )

    run = re.compile(f"(?:{frame('(?:')})++")
    return _DumpLayout(run, re.compile(frame("(")), heads, head_of)


def at_record(data: bytes | bytearray, start: int) -> bool:
    """Tell whether data[start:] begins as a DumpRecord laid out as pyasn1 does (its head)."""
    head = data[start : start + 6]  # the frame's length, [APPLICATION 4], the message's length
    return (
        len(head) == 6
        and head[:3] == b"\x00\x00\x00"
        and head[4] == 0x64
        and head[5] == head[3] - 2
    )


def dump_run(data: bytes | bytearray, start: int, invoke_id: int) -> tuple[list[Record], int]:
    """Read the run of whole DumpRecords of invoke_id at data[start:] laid out as pyasn1 does.

    Return their records and where the run ends (start: none there).
    """
    layout = _layout(invoke_id)
    text = bytes(data[start:]).decode("latin-1")
    end = layout.run.match(text)
    if end is None or not end.end():
        return [], start
    found = layout.frame.findall(text, 0, end.end())
    heads, stop = layout.heads, end.end()
    if stop == len(text):  # the run reaches the end of what came: its last frame may be cut
        head, _, _, size, features, state = found[-1]
        if not heads[state].get(head) == ord(size) == len(features):
            found.pop()
            stop -= 27 + len(head) + len(features) + len(state)
    # Each frame's lengths must be those its values give: else it is not laid out as pyasn1
    # lays it out (or not whole), and the run ends before it.
    records = [
        (mid, esn, features, SUSPENDED if state else ACTIVE)
        for head, mid, esn, size, features, state in found
        if heads[state].get(head) == ord(size) == len(features)
    ]
    if len(records) != len(found):
        records, stop = [], 0
        for head, mid, esn, size, features, state in found:
            if not heads[state].get(head) == ord(size) == len(features):
                break
            records.append((mid, esn, features, SUSPENDED if state else ACTIVE))
            stop += 27 + len(head) + len(features) + len(state)
    return records, start + stop


def dump_page(invoke_id: int, records: Sequence[Record]) -> bytes | None:
    """Return length-prefixed DumpRecord frames of the records, exactly as pyasn1 writes them.

    None when a value is outside the module: each is then written (or refused) on its own.
    """
    if type(invoke_id) is not int or not 0 <= invoke_id <= MAX_ID:
        return None
    if not records:
        return b""
    layout = _layout(invoke_id)
    heads, tails = layout.head_of, {ACTIVE: "", SUSPENDED: SUSPENDED_OCTETS.decode("latin-1")}
    try:
        text = "".join(
            [
                f"{heads[state][len(features)]}\x80\n{mid}\x81\x0b{esn}\x82{chr(len(features))}"
                f"{features}{tails[state]}"
                for mid, esn, features, state in records
            ]
        )
    except (KeyError, IndexError, TypeError):  # an unknown state, features too long
        return None
    if layout.run.fullmatch(text) is None:  # a value off the module: not digits, not printable
        return None
    return text.encode("latin-1")


__all__ = ["at_record", "dump_page", "dump_run"]
