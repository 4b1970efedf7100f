"""The BER switch dialect as a pure codec: messages in, octets out, and back again.

Rules of the line (data/asn1/cas-switch.asn): every message is one BER-encoded Message behind
a 4-octet big-endian length of at most MAX_MESSAGE octets. Octets are decoded only as whole
frames; a frame that is not exactly one Message, or a length out of range, is refused with
BerError, after which the stream cannot be trusted and the decoder refuses everything.
No I/O happens here; the client session and the simulator both drive this module.

Octets are written and read by hand (ber_direct) for the layout pyasn1 itself writes; pyasn1
(the types of ber_types) is the reference, used for anything else: it writes the refusal of a
value outside the module, and reads any other layout BER allows. The tests hold both paths to
the same octets and the same messages.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import cast

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.error import PyAsn1Error

from switch_adapters import ber_direct, ber_dump
from switch_adapters import ber_types as asn
from switch_adapters.ber_messages import (
    REQUESTS,
    Answer,
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
from switch_adapters.codec import CodecError
from switch_adapters.port import Record, Subscriber

PREFIX = struct.Struct(">I")
MAX_MESSAGE = asn.MAX_MESSAGE


class BerError(CodecError):
    """Octets that are not a message of the BER dialect."""


# Error codes of the ASN.1 module, by name.
ERROR_CODES = {name: int(value) for name, value in asn.ErrorCode.namedValues.items()}


def _record(subscriber: Subscriber, spec: asn.SubscriberRecord) -> asn.SubscriberRecord:
    record = spec.clone()
    record["mid"] = subscriber.mid
    record["esn"] = subscriber.esn
    record["features"] = subscriber.features
    record["state"] = subscriber.state  # the default, active, is not written
    return record


def _subscriber(record: asn.SubscriberRecord) -> Subscriber:
    return Subscriber(
        str(record["mid"]), str(record["esn"]), str(record["features"]), str(record["state"])
    )


def _request_value(message: Request) -> asn.Message:
    value = asn.Message()
    request = value["request"]
    request["invokeId"] = message.invoke_id
    operation = request["operation"]
    if isinstance(message, LogOn):
        operation["logOn"]["name"] = message.name
        operation["logOn"]["secret"] = message.secret
    elif isinstance(message, Insert):
        spec = operation.componentType["insert"].asn1Object
        operation["insert"] = _record(message.subscriber, spec)
    elif isinstance(message, Delete):
        operation["delete"] = message.mid
    elif isinstance(message, Query):
        operation["query"] = message.mid
    elif isinstance(message, Modify):
        modify = operation["modify"]
        modify["mid"] = message.mid
        if message.esn is not None:
            modify["esn"] = message.esn
        if message.features is not None:
            modify["features"] = message.features
    elif isinstance(message, Suspend):
        operation["suspend"] = message.mid
    elif isinstance(message, Restore):
        operation["restore"] = message.mid
    elif isinstance(message, Dump):
        dump = operation["dump"]
        if message.after is not None:
            dump["after"] = message.after
    elif isinstance(message, KeepAlive):
        operation["keepAlive"] = None
    else:
        operation["logOff"] = None
    return value


def _answer_value(message: Answer) -> asn.Message:
    value = asn.Message()
    if isinstance(message, Response):
        answer = value["response"]
        answer["text"] = message.text
        if message.subscriber is not None:
            spec = answer.componentType["subscriber"].asn1Object
            answer["subscriber"] = _record(message.subscriber, spec)
    elif isinstance(message, Refused):
        answer = value["error"]
        answer["code"] = message.code
        answer["reason"] = message.reason
    elif isinstance(message, DumpRecord):
        answer = value["dumpRecord"]
        spec = answer.componentType["subscriber"].asn1Object
        answer["subscriber"] = _record(message.subscriber, spec)
    else:
        answer = value["endOfDump"]
        answer["count"] = message.count
    answer["invokeId"] = message.invoke_id
    return value


def encode_message(message: Message) -> bytes:
    """Encode one message as BER octets, without the length prefix."""
    octets = ber_direct.encode(message)
    if octets is None:  # a value outside the module: pyasn1 tells which
        return encode_with_pyasn1(message)
    if len(octets) > MAX_MESSAGE:
        raise BerError(f"message of {len(octets)} octets exceeds {MAX_MESSAGE}")
    return octets


def encode_with_pyasn1(message: Message) -> bytes:
    """Encode one message through pyasn1 alone (the reference of the direct path)."""
    try:
        if isinstance(message, REQUESTS):
            value = _request_value(message)
        else:
            value = _answer_value(message)
        octets: bytes = ber_encoder.encode(value)
    # pyasn1 reports a value out of its constraints as KeyError when set into a component.
    except (PyAsn1Error, KeyError) as exc:
        raise BerError(f"cannot encode {message!r}: {exc}") from exc
    if len(octets) > MAX_MESSAGE:
        raise BerError(f"message of {len(octets)} octets exceeds {MAX_MESSAGE}")
    return octets


def encode(message: Message) -> bytes:
    """Encode one message as a length-prefixed frame for the line."""
    octets = encode_message(message)
    return PREFIX.pack(len(octets)) + octets


def _request(request: asn.Request) -> Request:
    invoke_id = int(request["invokeId"])
    operation = request["operation"]
    name = operation.getName()
    if name == "logOn":
        logon = operation["logOn"]
        return LogOn(invoke_id, str(logon["name"]), bytes(logon["secret"]))
    if name == "insert":
        return Insert(invoke_id, _subscriber(operation["insert"]))
    if name == "delete":
        return Delete(invoke_id, str(operation["delete"]))
    if name == "query":
        return Query(invoke_id, str(operation["query"]))
    if name == "modify":
        modify = operation["modify"]
        esn, features = modify["esn"], modify["features"]
        return Modify(
            invoke_id,
            str(modify["mid"]),
            str(esn) if esn.isValue else None,
            str(features) if features.isValue else None,
        )
    if name == "suspend":
        return Suspend(invoke_id, str(operation["suspend"]))
    if name == "restore":
        return Restore(invoke_id, str(operation["restore"]))
    if name == "dump":
        after = operation["dump"]["after"]
        return Dump(invoke_id, str(after) if after.isValue else None)
    if name == "keepAlive":
        return KeepAlive(invoke_id)
    return LogOff(invoke_id)


def _message(value: asn.Message) -> Message:
    name = value.getName()
    if name == "request":
        return _request(value["request"])
    answer = value[name]
    invoke_id = int(answer["invokeId"])
    if name == "response":
        found = answer["subscriber"]
        subscriber = _subscriber(found) if found.isValue else None
        return Response(invoke_id, str(answer["text"]), subscriber)
    if name == "error":
        return Refused(invoke_id, int(answer["code"]), str(answer["reason"]))
    if name == "dumpRecord":
        return DumpRecord(invoke_id, _subscriber(answer["subscriber"]))
    return EndOfDump(invoke_id, int(answer["count"]))


def decode_message(octets: bytes) -> Message:
    """Decode exactly one BER-encoded message (no length prefix)."""
    message = ber_direct.decode(octets)
    return decode_with_pyasn1(octets) if message is None else message


def decode_with_pyasn1(octets: bytes) -> Message:
    """Decode one message through pyasn1 alone (the reference of the direct path)."""
    try:
        value, rest = ber_decoder.decode(octets, asn1Spec=asn.Message())
        if rest:
            raise BerError(f"{len(rest)} octets after the message")
        return _message(value)
    except BerError:
        raise
    # pyasn1 reports most bad input as PyAsn1Error, a few shapes as plain Python errors (a
    # length too large to read at all as OverflowError).
    except (
        PyAsn1Error,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        OverflowError,
    ) as exc:
        raise BerError(f"not a message of the dialect: {type(exc).__name__} {exc}") from exc


class FrameDecoder:
    """Take octets as they arrive and give back whole messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._broken: BerError | None = None

    @property
    def pending(self) -> int:
        """Octets received and not yet part of a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Message]:
        """Add octets; return the messages they complete, in order."""
        messages: list[list[Record] | Message] = []
        self._take(data, messages.append)
        return cast(list[Message], messages)  # no records without a dump's invoke id

    def feed_dump(self, data: bytes, invoke_id: int) -> list[list[Record] | Message]:
        """Add octets of a dump; return what they complete, in order.

        A run of DumpRecords of invoke_id laid out as pyasn1 lays them out comes as one list
        of their records (mid, esn, features, state); anything else (the EndOfDump, a record
        in another layout, another request's late answer) as a message of its own.
        """
        taken: list[list[Record] | Message] = []
        self._take(data, taken.append, invoke_id)
        return taken

    def _take(
        self,
        data: bytes,
        give: Callable[[list[Record] | Message], None],
        dump: int | None = None,
    ) -> None:
        if self._broken is not None:
            raise self._broken
        buffer = self._buffer
        buffer += data
        start = 0
        try:
            while True:
                # A run of records is looked for only where one seems to begin: a stream of
                # frames in another layout is not searched again before every frame.
                if dump is not None and ber_dump.at_record(buffer, start):
                    records, start = ber_dump.dump_run(buffer, start, dump)
                    if records:
                        give(records)
                if len(buffer) - start < PREFIX.size:
                    break
                (length,) = PREFIX.unpack_from(buffer, start)
                if not 0 < length <= MAX_MESSAGE:
                    raise BerError(f"frame length {length} out of range")
                end = start + PREFIX.size + length
                if len(buffer) < end:
                    break
                give(decode_message(bytes(buffer[start + PREFIX.size : end])))
                start = end
        except BerError as exc:
            self._broken = exc
            raise
        finally:
            del buffer[:start]

    def end_of_stream(self) -> None:
        """Refuse a stream that ended inside a frame."""
        if self._broken is not None:
            raise self._broken
        if self._buffer:
            raise BerError(f"line ended {len(self._buffer)} octets into a frame")
