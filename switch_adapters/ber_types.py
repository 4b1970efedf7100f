"""pyasn1 types of the BER switch dialect, mirroring data/asn1/cas-switch.asn.

The module is written with IMPLICIT TAGS, so every context or application tag below replaces
the tag of the type it marks; only the encoding in ber_codec.py turns values into octets.
"""

from __future__ import annotations

from pyasn1.type import char, constraint, namedtype, namedval, tag, univ

DIGITS = constraint.PermittedAlphabetConstraint(*"0123456789")
# pyasn1 leaves PrintableString's alphabet (X.680 41.4) to the module; this one enforces it.
PRINTABLE = constraint.PermittedAlphabetConstraint(
    *"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
)
# The maximum BER message a frame may carry; the 4-octet length prefix is refused above it.
MAX_MESSAGE = 65535


def _context(number: int, constructed: bool = False) -> tag.Tag:
    form = tag.tagFormatConstructed if constructed else tag.tagFormatSimple
    return tag.Tag(tag.tagClassContext, form, number)


def _application(number: int) -> tag.Tag:
    return tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, number)


class InvokeId(univ.Integer):
    """Correlates a request with the answers it draws."""

    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(0, 2147483647)


class Mid(char.NumericString):
    """10-digit telephone number."""

    subtypeSpec = char.NumericString.subtypeSpec + constraint.ValueSizeConstraint(10, 10) + DIGITS


class Esn(char.NumericString):
    """11-digit decimal ESN."""

    subtypeSpec = char.NumericString.subtypeSpec + constraint.ValueSizeConstraint(11, 11) + DIGITS


class Features(char.PrintableString):
    """Rate plan code or feature list."""

    subtypeSpec = (
        char.PrintableString.subtypeSpec + constraint.ValueSizeConstraint(0, 32) + PRINTABLE
    )


class SubscriberState(univ.Enumerated):
    """Whether the line is in service or barred."""

    namedValues = namedval.NamedValues(("active", 0), ("suspended", 1))
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1)


class SubscriberRecord(univ.Sequence):
    """One subscriber as the switch holds it; an active line's state is not written."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mid", Mid().subtype(implicitTag=_context(0))),
        namedtype.NamedType("esn", Esn().subtype(implicitTag=_context(1))),
        namedtype.NamedType("features", Features().subtype(implicitTag=_context(2))),
        namedtype.DefaultedNamedType(
            "state", SubscriberState("active").subtype(implicitTag=_context(3))
        ),
    )


class ModifyRequest(univ.Sequence):
    """A new handset and/or features for a subscriber; what is absent stays."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mid", Mid().subtype(implicitTag=_context(0))),
        namedtype.OptionalNamedType("esn", Esn().subtype(implicitTag=_context(1))),
        namedtype.OptionalNamedType("features", Features().subtype(implicitTag=_context(2))),
    )


class LogOnRequest(univ.Sequence):
    """Log-on name and secret."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType(
            "name",
            char.PrintableString().subtype(
                subtypeSpec=constraint.ConstraintsIntersection(
                    constraint.ValueSizeConstraint(1, 32), PRINTABLE
                ),
                implicitTag=_context(0),
            ),
        ),
        namedtype.NamedType(
            "secret",
            univ.OctetString().subtype(
                subtypeSpec=constraint.ValueSizeConstraint(0, 64), implicitTag=_context(1)
            ),
        ),
    )


class DumpRequest(univ.Sequence):
    """Dump every subscriber, optionally after a MID."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("after", Mid().subtype(implicitTag=_context(0))),
    )


class Operation(univ.Choice):
    """What a request asks of the switch."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("logOn", LogOnRequest().subtype(implicitTag=_context(0, True))),
        namedtype.NamedType("insert", SubscriberRecord().subtype(implicitTag=_context(1, True))),
        namedtype.NamedType("delete", Mid().subtype(implicitTag=_context(2))),
        namedtype.NamedType("query", Mid().subtype(implicitTag=_context(3))),
        namedtype.NamedType("dump", DumpRequest().subtype(implicitTag=_context(4, True))),
        namedtype.NamedType("keepAlive", univ.Null().subtype(implicitTag=_context(5))),
        namedtype.NamedType("logOff", univ.Null().subtype(implicitTag=_context(6))),
        namedtype.NamedType("modify", ModifyRequest().subtype(implicitTag=_context(7, True))),
        namedtype.NamedType("suspend", Mid().subtype(implicitTag=_context(8))),
        namedtype.NamedType("restore", Mid().subtype(implicitTag=_context(9))),
    )


class Request(univ.Sequence):
    """One request of CAS to the switch."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", InvokeId()),
        namedtype.NamedType("operation", Operation()),
    )


class Response(univ.Sequence):
    """A request done; the text is matched against the switch row's expected response."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", InvokeId()),
        namedtype.NamedType(
            "text",
            char.PrintableString().subtype(
                subtypeSpec=constraint.ConstraintsIntersection(
                    constraint.ValueSizeConstraint(0, 64), PRINTABLE
                ),
                implicitTag=_context(0),
            ),
        ),
        namedtype.OptionalNamedType(
            "subscriber", SubscriberRecord().subtype(implicitTag=_context(1, True))
        ),
    )


class ErrorCode(univ.Integer):
    """Why the switch refused a request."""

    namedValues = namedval.NamedValues(
        ("authorizationFailure", 1),
        ("notLoggedOn", 2),
        ("subscriberExists", 3),
        ("esnInUse", 4),
        ("unknownSubscriber", 5),
        ("badRequest", 6),
        ("switchBusy", 7),
        ("alreadySuspended", 8),
        ("notSuspended", 9),
    )
    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(0, 65535)


class Error(univ.Sequence):
    """A request refused, with the switch's code and reason."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", InvokeId()),
        namedtype.NamedType("code", ErrorCode().subtype(implicitTag=_context(0))),
        namedtype.NamedType(
            "reason",
            char.UTF8String().subtype(
                subtypeSpec=constraint.ValueSizeConstraint(0, 200), implicitTag=_context(1)
            ),
        ),
    )


class DumpRecord(univ.Sequence):
    """One subscriber of a dump."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", InvokeId()),
        namedtype.NamedType(
            "subscriber", SubscriberRecord().subtype(implicitTag=_context(0, True))
        ),
    )


class EndOfDump(univ.Sequence):
    """The last answer of a dump, with how many records it sent."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", InvokeId()),
        namedtype.NamedType(
            "count",
            univ.Integer().subtype(
                subtypeSpec=constraint.ValueRangeConstraint(0, 2147483647),
                implicitTag=_context(0),
            ),
        ),
    )


class Message(univ.Choice):
    """Everything that travels on a BER line."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("request", Request().subtype(implicitTag=_application(1))),
        namedtype.NamedType("response", Response().subtype(implicitTag=_application(2))),
        namedtype.NamedType("error", Error().subtype(implicitTag=_application(3))),
        namedtype.NamedType("dumpRecord", DumpRecord().subtype(implicitTag=_application(4))),
        namedtype.NamedType("endOfDump", EndOfDump().subtype(implicitTag=_application(5))),
    )
