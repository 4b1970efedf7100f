"""What every switch adapter offers, whatever its dialect and line.

A switch adapter takes a switch definition (a row of the Switch Information File, turned into
plain values by its caller) and a command, and returns a result or raises one of the typed
errors below. It knows nothing of agents or transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

# The call flow gives the switch 20 s for an insertion; no adapter command may block longer.
DEFAULT_DEADLINE = 20.0

COMMANDS = ("insert", "delete", "query", "dump", "modify", "suspend", "restore")

# The states of a line a switch holds: in service, or barred (suspended: the subscriber and its
# number stay on the switch, calls do not go through until it is restored).
ACTIVE = "active"
SUSPENDED = "suspended"
STATES = (ACTIVE, SUSPENDED)


@dataclass(frozen=True)
class Subscriber:
    """One subscriber as a switch holds it."""

    mid: str  # 10-digit telephone number, NPA-NXX-XXXX without separators
    esn: str  # 11-digit decimal ESN of the handset
    features: str = ""  # the rate plan code or feature list as the switch stores it
    state: str = ACTIVE  # ACTIVE or SUSPENDED


# A subscriber as a bulk read gives it: (mid, esn, features, state). A dump of a million lines
# is read faster as plain tuples, a part of the answer at a time (LineSession.dump_records).
Record = tuple[str, str, str, str]
RECORD_BATCH = 500  # records per batch where a dump is read subscriber by subscriber


def batched_records(
    subscribers: Iterable[Subscriber], size: int = RECORD_BATCH
) -> Iterator[list[Record]]:
    """Group subscribers into batches of records.

    When the subscribers fail half-way, the batch read so far comes first, then the failure:
    what a broken dump did show is still compared.
    """
    batch: list[Record] = []
    try:
        for subscriber in subscribers:
            batch.append((subscriber.mid, subscriber.esn, subscriber.features, subscriber.state))
            if len(batch) == size:
                yield batch
                batch = []
    except Exception:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


@dataclass(frozen=True)
class CommandTemplate:
    """How one command is written for a switch and what a good answer looks like."""

    format: str  # str.format template; fields: mid, esn, features, ctag, name, secret
    expect: str  # regular expression a successful answer matches


@dataclass(frozen=True)
class SwitchDefinition:
    """Plain values of one Switch Information File row."""

    name: str
    dialect: str  # "tl1", "mml", "ber" or "osmo-hlr"
    code: str
    primary_url: str  # a pyserial URL: /dev/ttyS0, socket://h:p, rfc2217://h:p, loop://
    backup_url: str | None = None
    logon_name: str = ""
    logon_secret: str = ""
    commands: Mapping[str, CommandTemplate] = field(default_factory=dict)
    npa_nxx: tuple[str, ...] = ()


class SwitchError(Exception):
    """Anything that kept a switch command from completing."""

    def __init__(self, switch: str, message: str) -> None:
        super().__init__(f"{switch}: {message}")
        self.switch = switch
        self.message = message


class SwitchDenied(SwitchError):
    """The switch answered and refused the command, with its own reason."""

    def __init__(self, switch: str, code: str, reason: str) -> None:
        super().__init__(switch, f"denied {code}: {reason}")
        self.code = code
        self.reason = reason


class SwitchTimeout(SwitchError):
    """No complete answer before the command's deadline."""


class LineDown(SwitchError):
    """Neither the primary nor the backup line could be opened or kept up."""


class Garbled(SwitchError):
    """The switch answered with bytes the dialect cannot parse."""


class SwitchSession(Protocol):
    """An open, logged-on connection to one switch.

    Every change is made at most once, and one already made counts as done: a change whose
    answer was lost, or which the switch refused, is checked against what the switch holds
    before it is sent again or reported refused.
    """

    def insert(self, subscriber: Subscriber) -> None:
        """Put an active subscriber on the switch."""
        ...

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> None:
        """Change the handset and/or the features of a subscriber; None leaves a value as is."""
        ...

    def suspend(self, mid: str) -> None:
        """Bar the line: the subscriber stays on the switch, SUSPENDED."""
        ...

    def restore(self, mid: str) -> None:
        """Lift the bar: the subscriber is ACTIVE again."""
        ...

    def delete(self, mid: str) -> None:
        """Disconnect: take the MID off the switch."""
        ...

    def query(self, mid: str) -> Subscriber | None:
        """What the switch holds for a MID, its state included, or None."""
        ...

    def dump(self) -> Iterator[Subscriber]:
        """Every subscriber, ordered by MID, streamed (never all held in memory)."""
        ...

    def close(self) -> None: ...
