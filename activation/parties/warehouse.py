"""Headquarters' warehouse protocol (data/openapi/warehouse.yaml): CAS's adapter and the
simulator's desk.

    PUT /v1/reorders/{reference}   {agent_code, product_code, quantity}  (Idempotency-Key)
                                   201 taken, 200 the same re-order again
    GET /v1/reorders/{reference}   200 the re-order, 404 none

The reference is CAS's own (`CAS-R` and the re-order's number), so a re-order sent twice is
one re-order at the warehouse whatever the retries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from activation.parties.client import PartyClient, text, whole
from activation.parties.desk import (
    LedgerDesk,
    Refused,
    Request,
    Route,
    field_of,
    json_body,
    refusal,
    reply,
)
from activation.parties.ports import ReorderRequest, WarehouseUnavailable

REFERENCE = r"CAS-R[0-9]{1,12}"


def reorder_from(body: Any) -> ReorderRequest:
    """A re-order from its JSON form (KeyError/TypeError/ValueError when it is not one)."""
    return ReorderRequest(
        reference=text(body, "reference"),
        agent_code=text(body, "agent_code"),
        product_code=text(body, "product_code"),
        quantity=whole(body, "quantity"),
    )


class HttpWarehouse:
    """Headquarters' warehouse over HTTP (the Warehouse port)."""

    def __init__(self, client: PartyClient) -> None:
        self.client = client

    def reorder(self, request: ReorderRequest, key: str | None = None) -> None:
        """Ask the warehouse to ship a re-order (the same reference twice is one re-order)."""
        body = asdict(request)
        del body["reference"]
        self.client.call(
            "PUT",
            f"/v1/reorders/{_reference(request.reference)}",
            body=body,
            expect=(200, 201),
            key=key,
            idempotent=True,
        )

    def lookup(self, reference: str) -> ReorderRequest | None:
        """The re-order the warehouse holds under a reference, or None."""
        status, body = self.client.call(
            "GET", f"/v1/reorders/{_reference(reference)}", expect=(200, 404)
        )
        return None if status == 404 else self.client.read(lambda: reorder_from(body))


def _reference(reference: str) -> str:
    if not re.fullmatch(REFERENCE, reference):
        raise ValueError("a re-order reference is CAS-R and digits")
    return reference


def warehouse_client(base_url: str, deadline: float, **credentials: Any) -> PartyClient:
    """A client of the warehouse protocol at base_url."""
    return PartyClient(
        "warehouse", base_url, unavailable=WarehouseUnavailable, deadline=deadline, **credentials
    )


class WarehouseDesk(LedgerDesk):
    """A warehouse keeping every re-order it took in a ledger file."""

    party = "warehouse"
    ledger_file = "warehouse.sqlite3"

    def routes(self) -> Sequence[Route]:
        one = re.compile(r"/v1/reorders/(?P<reference>[^/]+)")
        return [("PUT", one, self._take), ("GET", one, self._lookup)]

    def _take(self, request: Request, match: re.Match[str]) -> Any:
        reference = _path_reference(match)
        body = json_body(request)
        quantity = body.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity < 10000:
            raise Refused(400, "bad_request", "quantity is a whole number from 1 to 9999")
        taken = ReorderRequest(
            reference=reference,
            agent_code=field_of(body, "agent_code", r"[0-9]{1,8}"),
            product_code=field_of(body, "product_code", r"[A-Za-z0-9]{1,12}"),
            quantity=quantity,
        )

        def store(conn: Any) -> Any:
            held = self.ledger.get(reference, conn)
            if held is not None and held != asdict(taken):
                return refusal(409, "reference_taken", "that reference names another re-order")
            created = self.ledger.put(conn, reference, reference, asdict(taken))
            return reply(201 if created else 200, asdict(taken))

        return self.once(self.ledger, request, reference, store)

    def _lookup(self, request: Request, match: re.Match[str]) -> Any:
        held = self.ledger.get(_path_reference(match))
        if held is None:
            return refusal(404, "not_found", "no re-order under that reference")
        return reply(200, held)


def _path_reference(match: re.Match[str]) -> str:
    reference = match["reference"]
    if not re.fullmatch(REFERENCE, reference):
        raise Refused(404, "not_found", "a re-order reference is CAS-R and digits")
    return reference
