"""The messages of the BER switch dialect (data/asn1/cas-switch.asn), as plain values.

Requests are what CAS sends, answers what the switch sends back; every one carries the invoke
id that ties an answer to its request. ``ber_codec`` turns them into octets and back.
"""

from __future__ import annotations

from dataclasses import dataclass

from switch_adapters.port import Subscriber


@dataclass(frozen=True)
class LogOn:
    """Log the line on with the switch's name and secret."""

    invoke_id: int
    name: str
    secret: bytes


@dataclass(frozen=True)
class Insert:
    """Insert one subscriber."""

    invoke_id: int
    subscriber: Subscriber


@dataclass(frozen=True)
class Delete:
    """Delete one MID."""

    invoke_id: int
    mid: str


@dataclass(frozen=True)
class Query:
    """Look one MID up."""

    invoke_id: int
    mid: str


@dataclass(frozen=True)
class Modify:
    """Give a subscriber a new handset and/or features; None leaves a value as it is."""

    invoke_id: int
    mid: str
    esn: str | None = None
    features: str | None = None


@dataclass(frozen=True)
class Suspend:
    """Bar one MID's line."""

    invoke_id: int
    mid: str


@dataclass(frozen=True)
class Restore:
    """Lift the bar on one MID's line."""

    invoke_id: int
    mid: str


@dataclass(frozen=True)
class Dump:
    """Send every subscriber ordered by MID, after `after` when given."""

    invoke_id: int
    after: str | None = None


@dataclass(frozen=True)
class KeepAlive:
    """Prove the line answers; changes nothing."""

    invoke_id: int


@dataclass(frozen=True)
class LogOff:
    """End the log-on of the line."""

    invoke_id: int


@dataclass(frozen=True)
class Response:
    """A request done; a query that found its MID carries the subscriber."""

    invoke_id: int
    text: str
    subscriber: Subscriber | None = None


@dataclass(frozen=True)
class Refused:
    """A request refused, with the switch's code and reason."""

    invoke_id: int
    code: int
    reason: str


@dataclass(frozen=True)
class DumpRecord:
    """One subscriber of a dump."""

    invoke_id: int
    subscriber: Subscriber


@dataclass(frozen=True)
class EndOfDump:
    """The last answer of a dump."""

    invoke_id: int
    count: int


Request = LogOn | Insert | Delete | Query | Dump | KeepAlive | LogOff | Modify | Suspend | Restore
REQUESTS = (LogOn, Insert, Delete, Query, Dump, KeepAlive, LogOff, Modify, Suspend, Restore)
Answer = Response | Refused | DumpRecord | EndOfDump
Message = Request | Answer


__all__ = [
    "REQUESTS",
    "Answer",
    "Delete",
    "Dump",
    "DumpRecord",
    "EndOfDump",
    "Insert",
    "KeepAlive",
    "LogOff",
    "LogOn",
    "Message",
    "Modify",
    "Query",
    "Refused",
    "Request",
    "Response",
    "Restore",
    "Suspend",
]
