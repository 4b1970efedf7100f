"""psycopg's cursor with a plainer description: PEP 249 tuples, built only when looked at.

psycopg builds a `Column` object for every column each time `description` is read, and
SQLAlchemy reads it once for every result; for a webhook's read of its call and transaction
(sixty columns) that cost as much as a round trip's client side. SQLAlchemy needs only each
column's name and type code, which the tuples carry in the places PEP 249 gives them, and
for a statement it has run before (almost every one) it only asks whether there is a
description at all: its columns are then described only if something reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import psycopg
from psycopg.pq.abc import PGresult

Column = tuple[str, int, None, None, None, None, None]


class DescribedCursor(psycopg.Cursor[Any]):
    """A client cursor whose description is a sequence of 7-tuples off the result."""

    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description  # type: ignore[return-value]  # none, or no columns
        return Description(result, self.connection.info.encoding)


class Description(Sequence[Column]):
    """The columns of one result, in PEP 249 tuples, read off the result when first asked."""

    __slots__ = ("_columns", "_encoding", "_result")

    def __init__(self, result: PGresult, encoding: str) -> None:
        self._result, self._encoding = result, encoding
        self._columns: list[Column] | None = None

    def __len__(self) -> int:
        return self._result.nfields

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | Sequence[Column]:
        return self._described()[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list's equal: unhashable, as a list is

    def __repr__(self) -> str:
        return repr(self._described())

    def _described(self) -> list[Column]:
        if self._columns is None:
            result, encoding = self._result, self._encoding
            self._columns = [
                (_name(result.fname(i), i, encoding), result.ftype(i), *_UNKNOWN)
                for i in range(result.nfields)
            ]
        return self._columns


_UNKNOWN = (None, None, None, None, None)  # display size, internal size, precision, scale, null


def _name(raw: bytes | None, index: int, encoding: str) -> str:
    # psycopg names a column without a name (a COPY's) by its position, as here
    return raw.decode(encoding) if raw else f"column_{index + 1}"
