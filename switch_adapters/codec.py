"""What every dialect codec shares: its one error.

Codecs are pure (bytes in, events out, no I/O) and know no switch by name, so they raise
``CodecError``; the session that feeds them turns it into ``port.Garbled`` for its switch.
"""

from __future__ import annotations


class CodecError(ValueError):
    """Bytes the dialect cannot parse, or a message it cannot encode."""


__all__ = ["CodecError"]
