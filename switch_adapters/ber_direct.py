"""The BER dialect's octets written and read by hand, for speed; pyasn1 stays the reference.

Every message of data/asn1/cas-switch.asn has one fixed shape, so its octets can be written
and read without building pyasn1 objects, which cost most of the time of a request and nearly
all of a dump. The rules kept here, which the tests hold against pyasn1 for every message
(ber_codec.encode_with_pyasn1 and decode_with_pyasn1):

- ``encode(message)`` gives exactly the octets pyasn1 gives, or None when a value is outside
  the module's constraints: pyasn1 then says what is wrong.
- ``decode(octets)`` gives exactly the message pyasn1 gives, or None for anything but the
  layout pyasn1 writes (definite lengths in their shortest form, shortest INTEGERs, primitive
  strings, DEFAULT values left out, components in order, nothing after them): pyasn1 then
  reads it or refuses it.

A dump's DumpRecords are written and read a run at a time by ber_dump, on the same rules.

No I/O here, as in ber_codec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from switch_adapters.ber_messages import (
    Delete,
    Dump,
    DumpRecord,
    EndOfDump,
    Insert,
    KeepAlive,
    LogOff,
    LogOn,
    Message,
    Modify,
    Query,
    Refused,
    Request,
    Response,
    Restore,
    Suspend,
)
from switch_adapters.port import ACTIVE, SUSPENDED, Subscriber

MAX_ID = 2**31 - 1  # InvokeId, and EndOfDump's count
# PrintableString's alphabet (X.680 41.4), which the module's strings keep to.
PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
_PRINTABLE = frozenset(PRINTABLE)
_PRINTABLE_OCTETS = PRINTABLE.encode("ascii")
SUSPENDED_OCTETS = b"\x83\x01\x01"  # SubscriberRecord.state [3] suspended; active is the default

T = TypeVar("T")


class _Off(Exception):
    """Octets off the one layout read here: pyasn1 decides what they are."""


# -- writing -----------------------------------------------------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def integer_octets(number: int) -> bytes:
    """The shortest two's-complement octets of a non-negative INTEGER."""
    return number.to_bytes(number.bit_length() // 8 + 1, "big")


def _digits(value: object, size: int) -> bool:
    return isinstance(value, str) and len(value) == size and value.isascii() and value.isdigit()


def _printable(value: object, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value) <= high and _PRINTABLE.issuperset(value)


def _in_range(value: object, high: int) -> bool:
    return type(value) is int and 0 <= value <= high


def _record(tag: int, subscriber: Subscriber) -> bytes | None:
    mid, esn, features = subscriber.mid, subscriber.esn, subscriber.features
    if not (_digits(mid, 10) and _digits(esn, 11) and _printable(features, 0, 32)):
        return None
    if subscriber.state not in (ACTIVE, SUSPENDED):
        return None
    state = SUSPENDED_OCTETS if subscriber.state == SUSPENDED else b""
    content = b"\x80\x0a%b\x81\x0b%b\x82%c%b%b" % (
        mid.encode(),
        esn.encode(),
        len(features),
        features.encode(),
        state,
    )
    return _tlv(tag, content)


def _operation(message: Request) -> bytes | None:
    if isinstance(message, Insert):
        return _record(0xA1, message.subscriber)
    if isinstance(message, Delete | Query | Suspend | Restore):
        tag = {Delete: 0x82, Query: 0x83, Suspend: 0x88, Restore: 0x89}[type(message)]
        return _tlv(tag, message.mid.encode()) if _digits(message.mid, 10) else None
    if isinstance(message, Modify):
        mid, esn, features = message.mid, message.esn, message.features
        if not _digits(mid, 10):
            return None
        content = b"\x80\x0a" + mid.encode()
        if esn is not None:
            if not _digits(esn, 11):
                return None
            content += b"\x81\x0b" + esn.encode()
        if features is not None:
            if not _printable(features, 0, 32):
                return None
            content += _tlv(0x82, features.encode())
        return _tlv(0xA7, content)
    if isinstance(message, Dump):
        if message.after is None:
            return b"\xa4\x00"
        return (
            _tlv(0xA4, b"\x80\x0a" + message.after.encode()) if _digits(message.after, 10) else None
        )
    if isinstance(message, KeepAlive):
        return b"\x85\x00"
    if isinstance(message, LogOff):
        return b"\x86\x00"
    name, secret = message.name, message.secret
    if not (_printable(name, 1, 32) and isinstance(secret, bytes) and len(secret) <= 64):
        return None
    return _tlv(0xA0, _tlv(0x80, name.encode()) + _tlv(0x81, secret))


def encode(message: Message) -> bytes | None:
    """Return the message's BER octets exactly as pyasn1 writes them; None: a value is off."""
    if not _in_range(message.invoke_id, MAX_ID):
        return None
    invoke = _tlv(0x02, integer_octets(message.invoke_id))
    if isinstance(message, DumpRecord):
        record = _record(0xA0, message.subscriber)
        return None if record is None else _tlv(0x64, invoke + record)
    if isinstance(message, Response):
        text, subscriber = message.text, message.subscriber
        if not _printable(text, 0, 64):
            return None
        record = b"" if subscriber is None else _record(0xA1, subscriber)
        return None if record is None else _tlv(0x62, invoke + _tlv(0x80, text.encode()) + record)
    if isinstance(message, Refused):
        reason = message.reason
        if not (_in_range(message.code, 65535) and isinstance(reason, str) and len(reason) <= 200):
            return None
        try:
            reason_octets = reason.encode("utf-8")
        except UnicodeEncodeError:
            return None
        content = invoke + _tlv(0x80, integer_octets(message.code)) + _tlv(0x81, reason_octets)
        return _tlv(0x63, content)
    if isinstance(message, EndOfDump):
        if not _in_range(message.count, MAX_ID):
            return None
        return _tlv(0x65, invoke + _tlv(0x80, integer_octets(message.count)))
    operation = _operation(message)
    return None if operation is None else _tlv(0x61, invoke + operation)


# -- reading -----------------------------------------------------------------------------------


class _Reader:
    """A cursor over one value's contents: TLVs in order, each read whole."""

    def __init__(self, data: bytes, start: int, stop: int) -> None:
        self.data, self.pos, self.stop = data, start, stop

    def next(self, tag: int) -> bytes:
        """Return the contents of the next TLV, which must have this tag."""
        if self.peek() != tag:
            raise _Off
        data, pos = self.data, self.pos + 2
        size = data[pos - 1]
        if size >= 0x80:
            count = size & 0x7F
            if not 1 <= count <= 3 or data[pos] == 0:
                raise _Off  # indefinite, or a length longer than it needs to be
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
            if size < 0x80:
                raise _Off
        end = pos + size
        if end > self.stop:
            raise _Off
        self.pos = end
        return data[pos:end]

    def peek(self) -> int | None:
        """Return the tag of the next TLV, None at the end of the contents."""
        if self.pos >= self.stop:
            return None
        if self.stop - self.pos < 2:
            raise _Off
        return self.data[self.pos]

    def inner(self, tag: int) -> _Reader:
        """Return a cursor over the contents of the next (constructed) TLV."""
        contents = self.next(tag)
        return _Reader(self.data, self.pos - len(contents), self.pos)

    def done(self) -> None:
        """Refuse contents left over."""
        if self.pos != self.stop:
            raise _Off

    def integer(self, tag: int, high: int) -> int:
        octets = self.next(tag)
        number = int.from_bytes(octets, "big", signed=True)
        if not 0 <= number <= high or len(octets) != number.bit_length() // 8 + 1:
            raise _Off
        return number

    def digits(self, tag: int, size: int) -> str:
        octets = self.next(tag)
        if len(octets) != size or not octets.isdigit():
            raise _Off
        return octets.decode("ascii")

    def printable(self, tag: int, low: int, high: int) -> str:
        octets = self.next(tag)
        if not low <= len(octets) <= high or octets.translate(None, _PRINTABLE_OCTETS):
            raise _Off
        return octets.decode("ascii")

    def optional(self, tag: int, read: Callable[[], T]) -> T | None:
        return read() if self.peek() == tag else None


def _subscriber(reader: _Reader) -> Subscriber:
    mid = reader.digits(0x80, 10)
    esn = reader.digits(0x81, 11)
    features = reader.printable(0x82, 0, 32)
    state = ACTIVE
    if reader.peek() == 0x83:
        if reader.next(0x83) != b"\x01":  # an explicit "active" is pyasn1's to read
            raise _Off
        state = SUSPENDED
    reader.done()
    return Subscriber(mid, esn, features, state)


# The operations that are a MID alone, by tag.
_BY_MID: dict[int, Callable[[int, str], Request]] = {
    0x82: Delete,
    0x83: Query,
    0x88: Suspend,
    0x89: Restore,
}


def _request(invoke_id: int, reader: _Reader) -> Request:
    tag = reader.peek()
    message: Request
    if tag == 0xA1:
        message = Insert(invoke_id, _subscriber(reader.inner(0xA1)))
    elif tag is not None and tag in _BY_MID:
        message = _BY_MID[tag](invoke_id, reader.digits(tag, 10))
    elif tag == 0xA7:
        fields = reader.inner(0xA7)
        mid = fields.digits(0x80, 10)
        esn = fields.optional(0x81, lambda: fields.digits(0x81, 11))
        features = fields.optional(0x82, lambda: fields.printable(0x82, 0, 32))
        fields.done()
        message = Modify(invoke_id, mid, esn, features)
    elif tag == 0xA4:
        dump = reader.inner(0xA4)
        after = dump.optional(0x80, lambda: dump.digits(0x80, 10))
        dump.done()
        message = Dump(invoke_id, after)
    elif tag in (0x85, 0x86):
        if reader.next(tag):
            raise _Off
        message = KeepAlive(invoke_id) if tag == 0x85 else LogOff(invoke_id)
    elif tag == 0xA0:
        logon = reader.inner(0xA0)
        name = logon.printable(0x80, 1, 32)
        secret = logon.next(0x81)
        if len(secret) > 64:
            raise _Off
        logon.done()
        message = LogOn(invoke_id, name, secret)
    else:
        raise _Off
    return message


def _message(octets: bytes) -> Message:
    outer = _Reader(octets, 0, len(octets))
    tag = outer.peek()
    if tag is None or not 0x61 <= tag <= 0x65:
        raise _Off
    reader = outer.inner(tag)
    outer.done()  # nothing after the message
    invoke_id = reader.integer(0x02, MAX_ID)
    message: Message
    if tag == 0x61:
        message = _request(invoke_id, reader)
    elif tag == 0x62:
        text = reader.printable(0x80, 0, 64)
        record = reader.optional(0xA1, lambda: _subscriber(reader.inner(0xA1)))
        message = Response(invoke_id, text, record)
    elif tag == 0x63:
        code = reader.integer(0x80, 65535)
        reason = reader.next(0x81).decode("utf-8")
        if len(reason) > 200:
            raise _Off
        message = Refused(invoke_id, code, reason)
    elif tag == 0x64:
        message = DumpRecord(invoke_id, _subscriber(reader.inner(0xA0)))
    else:
        message = EndOfDump(invoke_id, reader.integer(0x80, MAX_ID))
    reader.done()
    return message


def decode(octets: bytes) -> Message | None:
    """Return the message of octets laid out as pyasn1 writes them; None for anything else."""
    try:
        return _message(octets)
    except (_Off, IndexError, UnicodeDecodeError):
        return None


__all__ = ["MAX_ID", "PRINTABLE", "SUSPENDED_OCTETS", "decode", "encode", "integer_octets"]
