"""The E911 provider's protocol (data/openapi/e911.yaml): CAS's adapter and the simulator's desk.

    PUT    /v1/registrations/{mid}   {transaction_code, customer_name, service_address}
                                     (Idempotency-Key)  201 new, 200 replaced,
                                     422 address_not_valid: 911 calls cannot be routed there
    GET    /v1/registrations/{mid}   200 the registration, 404 none
    DELETE /v1/registrations/{mid}?transaction_code=T  (Idempotency-Key)
                                     200 removed, 404 none, 409 registered for another
    GET    /v1/registrations?limit=N&cursor=C   ordered by MID, paged

One registration per number. A removal names the transaction whose registration it removes,
so a late removal never takes away the address of the number's next subscriber.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from activation.parties.client import PartyClient, text
from activation.parties.desk import (
    LedgerDesk,
    Refused,
    Request,
    Route,
    field_of,
    json_body,
    page_limit,
    refusal,
    reply,
)
from activation.parties.ports import E911Refused, E911Registration, E911Unavailable

MID = r"[0-9]{10}"
CODE = r"[0-9]{8}"
# A civic address 911 calls can be routed to: a house number and street, a city, a state.
ROUTABLE = re.compile(r"[0-9]+[A-Za-z]?\s+[^,]+,\s*[^,]+,\s*[^,]+(,\s*[^,]+)?")


def registration_from(body: Any) -> E911Registration:
    """A registration from its JSON form (KeyError/TypeError when it is not one)."""
    return E911Registration(
        mid=text(body, "mid"),
        transaction_code=text(body, "transaction_code"),
        customer_name=text(body, "customer_name"),
        service_address=text(body, "service_address"),
    )


class HttpE911:
    """The E911 address-registration provider over HTTP (the AddressRegistry port)."""

    def __init__(self, client: PartyClient) -> None:
        self.client = client

    def register(self, registration: E911Registration, key: str | None = None) -> None:
        """Register the number's service address; E911Refused when it cannot be routed."""
        body = asdict(registration)
        del body["mid"]
        status, answer = self.client.call(
            "PUT",
            f"/v1/registrations/{_mid(registration.mid)}",
            body=body,
            expect=(200, 201, 422),
            key=key,
            idempotent=True,
        )
        if status == 422:
            error = answer.get("error") if isinstance(answer, dict) else None
            if error != "address_not_valid":
                raise E911Unavailable(f"E911 provider answered HTTP 422 {error}")
            raise E911Refused(str(answer.get("message", "address not valid")))

    def lookup(self, mid: str) -> E911Registration | None:
        """Return the registration held for a number, or None."""
        status, body = self.client.call("GET", f"/v1/registrations/{_mid(mid)}", expect=(200, 404))
        return None if status == 404 else self.client.read(lambda: registration_from(body))

    def remove(self, mid: str, transaction_code: str, key: str | None = None) -> bool:
        """Remove the number's registration if it is this transaction's; tell whether it was."""
        if not re.fullmatch(CODE, transaction_code):
            raise ValueError("a transaction code is eight digits")
        status, _ = self.client.call(
            "DELETE",
            f"/v1/registrations/{_mid(mid)}",
            params={"transaction_code": transaction_code},
            expect=(200, 404, 409),
            key=key,
            idempotent=True,
        )
        return status == 200

    def every(self, page_size: int = 500) -> list[E911Registration]:
        """Every registration held, ordered by MID (walked page by page)."""
        held: list[E911Registration] = []
        cursor: str | None = None
        while True:
            page, cursor = self.page(cursor, page_size)
            held.extend(page)
            if cursor is None:
                return held

    def page(
        self, cursor: str | None = None, limit: int = 500
    ) -> tuple[list[E911Registration], str | None]:
        """The registrations after the cursor, ordered by MID, and the next page's cursor."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        _, body = self.client.call("GET", "/v1/registrations", params=params)

        def page() -> tuple[list[E911Registration], str | None]:
            after = body["next_cursor"]
            if after is not None and not isinstance(after, str):
                raise TypeError("next_cursor is not a string")
            return [registration_from(row) for row in body["registrations"]], after

        return self.client.read(page)


def _mid(mid: str) -> str:
    if not re.fullmatch(MID, mid):
        raise ValueError("a MID is ten digits")
    return mid


def e911_client(base_url: str, deadline: float, **credentials: Any) -> PartyClient:
    """A client of the E911 protocol at base_url."""
    return PartyClient(
        "E911 provider", base_url, unavailable=E911Unavailable, deadline=deadline, **credentials
    )


class E911Desk(LedgerDesk):
    """An E911 provider keeping one registration per number in a ledger file."""

    party = "E911 provider"
    ledger_file = "e911.sqlite3"

    def routes(self) -> Sequence[Route]:
        one = re.compile(r"/v1/registrations/(?P<mid>[^/]+)")
        return [
            ("PUT", one, self._register),
            ("GET", one, self._lookup),
            ("DELETE", one, self._remove),
            ("GET", re.compile(r"/v1/registrations"), self._list),
        ]

    def _register(self, request: Request, match: re.Match[str]) -> Any:
        mid = _path_mid(match)
        body = json_body(request)
        registration = E911Registration(
            mid=mid,
            transaction_code=field_of(body, "transaction_code", CODE),
            customer_name=field_of(body, "customer_name", r"[^\x00-\x1f]{1,100}"),
            service_address=field_of(body, "service_address", r"[^\x00-\x1f]{1,200}"),
        )

        def store(conn: Any) -> Any:
            if not ROUTABLE.fullmatch(registration.service_address.strip()):
                return refusal(
                    422,
                    "address_not_valid",
                    "911 calls cannot be routed to it: give number and street, city, state",
                )
            created = self.ledger.put(conn, mid, mid, asdict(registration))
            return reply(201 if created else 200, asdict(registration))

        return self.once(self.ledger, request, mid, store)

    def _lookup(self, request: Request, match: re.Match[str]) -> Any:
        held = self.ledger.get(_path_mid(match))
        if held is None:
            return refusal(404, "not_found", "no registration for that number")
        return reply(200, held)

    def _remove(self, request: Request, match: re.Match[str]) -> Any:
        mid = _path_mid(match)
        code = request.query.get("transaction_code", "")
        if not re.fullmatch(CODE, code):
            raise Refused(400, "bad_request", "transaction_code: the eight digits it was for")

        def take(conn: Any) -> Any:
            held = self.ledger.get(mid, conn)
            if held is None:
                return refusal(404, "not_found", "no registration for that number")
            if held["transaction_code"] != code:
                return refusal(409, "registered_for_another", "held for another transaction")
            self.ledger.take(conn, mid)
            return reply(200, held)

        return self.once(self.ledger, request, mid, take)

    def _list(self, request: Request, match: re.Match[str]) -> Any:
        limit = page_limit(request.query)
        raw = request.query.get("cursor")
        if raw is not None and not re.fullmatch(MID, raw):
            raise Refused(400, "bad_request", "not a cursor this provider gave")
        rows = self.ledger.after((raw, raw) if raw else None, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        after = rows[-1][0] if more and rows else None
        return reply(200, {"registrations": [entry for _, _, entry in rows], "next_cursor": after})


def _path_mid(match: re.Match[str]) -> str:
    mid = match["mid"]
    if not re.fullmatch(MID, mid):
        raise Refused(400, "bad_request", "a MID is ten digits")
    return mid
