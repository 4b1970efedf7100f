"""psycopg's cursor with a plainer description: a PEP 249 tuple per column.

psycopg builds a `Column` object for every column each time `description` is read, and
SQLAlchemy reads it once for every result; for a webhook's read of its call and transaction
(fifty columns) that cost as much as a round trip's client side. SQLAlchemy needs only each
column's name and type code, which the tuples carry in the places PEP 249 gives them.
"""

from __future__ import annotations

from typing import Any

import psycopg


class DescribedCursor(psycopg.Cursor[Any]):
    """A client cursor whose description is a list of 7-tuples, built straight off the result."""

    @property
    def description(self) -> list[Any] | None:
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description  # none, or a result without columns: psycopg's answer
        encoding = self.connection.info.encoding
        return [
            (_name(result.fname(i), i, encoding), result.ftype(i), *_UNKNOWN)
            for i in range(result.nfields)
        ]


_UNKNOWN = (None, None, None, None, None)  # display size, internal size, precision, scale, null


def _name(raw: bytes | None, index: int, encoding: str) -> str:
    # psycopg names a column without a name (a COPY's) by its position, as here
    return raw.decode(encoding) if raw else f"column_{index + 1}"
