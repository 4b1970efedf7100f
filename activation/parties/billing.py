"""The billing system's protocol (data/openapi/billing.yaml): CAS's adapter and the desk.

    PUT    /v1/records/{transaction_code}   the record but its code (Idempotency-Key)
                                            201 new, 200 replaced
    GET    /v1/records/{transaction_code}   200 the record, 404 none
    DELETE /v1/records/{transaction_code}   204 deleted, 404 none
    GET    /v1/records?limit=N&cursor=C     {"records": [...], "next_cursor": C | null}

One record per transaction: a resubmission replaces it (a line's change, suspension or
disconnection is its record sent again with the new plan, handset or line_state). The
listing is ordered by MID, then transaction code, and paged by an opaque cursor (the nightly
comparison walks it).
"""

from __future__ import annotations

import hashlib
import json
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
    page_limit,
    refusal,
    reply,
)
from activation.parties.ports import BillingPage, BillingRecord, BillingUnavailable

CODE = r"[0-9]{8}"
LINE_STATES = ("active", "suspended", "disconnected")
MID = r"[0-9]{10}"
CURSOR = re.compile(r"(?P<mid>[0-9]{1,15})\.(?P<code>[0-9]{1,15})")


def record_from(body: Any) -> BillingRecord:
    """A billing record from its JSON form (KeyError/TypeError when it is not one)."""
    return BillingRecord(
        transaction_code=text(body, "transaction_code", pattern=CODE),
        mid=text(body, "mid", pattern=MID),
        esn=text(body, "esn"),
        rate_plan=text(body, "rate_plan"),
        customer_name=text(body, "customer_name"),
        customer_address=text(body, "customer_address"),
        deposit_cents=whole(body, "deposit_cents"),
        deposit_method=text(body, "deposit_method"),
        line_state=text(body, "line_state"),
    )


class HttpBilling:
    """The billing system over HTTP (the BillingSystem port)."""

    def __init__(self, client: PartyClient) -> None:
        self.client = client

    def submit(self, record: BillingRecord, key: str | None = None) -> None:
        """Store the record (replacing the transaction's earlier one); retries share `key`.

        Without a key, the record's own digest is the key: every retry of the same record is
        recognised as one, and billing forgets it once the record is changed or deleted.
        """
        body = asdict(record)
        if key is None:
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            key = f"record-{digest[:48]}"
        del body["transaction_code"]  # the path names the transaction
        self.client.call(
            "PUT",
            f"/v1/records/{_code(record.transaction_code)}",
            body=body,
            expect=(200, 201),
            key=key,
            idempotent=True,
        )

    def inquire(self, transaction_code: str) -> BillingRecord | None:
        """Return the record held for a transaction, or None."""
        status, body = self.client.call(
            "GET", f"/v1/records/{_code(transaction_code)}", expect=(200, 404)
        )
        return None if status == 404 else self.client.read(lambda: record_from(body))

    def delete(self, transaction_code: str) -> bool:
        """Remove the record of a transaction; tell whether there was one."""
        status, _ = self.client.call(
            "DELETE", f"/v1/records/{_code(transaction_code)}", expect=(204, 404)
        )
        return status == 204

    def page(self, cursor: str | None = None, limit: int = 500) -> BillingPage:
        """Return the records held after the cursor, ordered by MID."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        _, body = self.client.call("GET", "/v1/records", params=params)

        def page() -> BillingPage:
            records = tuple(record_from(row) for row in body["records"])
            after = body["next_cursor"]
            if after is not None and not isinstance(after, str):
                raise TypeError("next_cursor is not a string")
            return BillingPage(records, after)

        return self.client.read(page)


def _code(transaction_code: str) -> str:
    # Codes are digits; anything else would name another path of the billing system.
    if not re.fullmatch(CODE, transaction_code):
        raise ValueError("a transaction code is eight digits")
    return transaction_code


def billing_client(base_url: str, deadline: float, **credentials: Any) -> PartyClient:
    """A client of the billing protocol at base_url."""
    return PartyClient(
        "billing system", base_url, unavailable=BillingUnavailable, deadline=deadline, **credentials
    )


class BillingDesk(LedgerDesk):
    """A billing system keeping one record per transaction in a ledger file.

    It is also down while the file `DOWN` exists in its directory, so an operator or a test
    can take it down and bring it back from another process.
    """

    party = "billing system"
    ledger_file = "billing.sqlite3"

    def routes(self) -> Sequence[Route]:
        one = re.compile(r"/v1/records/(?P<code>[^/]+)")
        return [
            ("PUT", one, self._submit),
            ("GET", one, self._inquire),
            ("DELETE", one, self._delete),
            ("GET", re.compile(r"/v1/records"), self._list),
        ]

    def _submit(self, request: Request, match: re.Match[str]) -> Any:
        code = _path_code(match)
        body = json_body(request)
        for name in ("esn", "rate_plan", "customer_name", "customer_address", "deposit_method"):
            field_of(body, name)
        field_of(body, "mid", MID)
        field_of(body, "line_state", "|".join(LINE_STATES))
        try:
            record = record_from({**body, "transaction_code": code})  # the path names it
        except (KeyError, TypeError) as exc:
            raise Refused(400, "bad_request", f"not a billing record: {exc}") from None
        if not 0 <= record.deposit_cents <= 100_000_000:
            raise Refused(400, "bad_request", "deposit_cents out of range")

        def store(conn: Any) -> Any:
            created = self.ledger.put(conn, code, record.mid, asdict(record))
            return reply(201 if created else 200, asdict(record))

        return self.once(self.ledger, request, code, store)

    def _inquire(self, request: Request, match: re.Match[str]) -> Any:
        held = self.ledger.get(_path_code(match))
        return (
            refusal(404, "not_found", "no record for that transaction")
            if held is None
            else (reply(200, held))
        )

    def _delete(self, request: Request, match: re.Match[str]) -> Any:
        code = _path_code(match)
        with self.ledger.transaction() as conn:
            gone = self.ledger.take(conn, code)
        if gone is None:
            return refusal(404, "not_found", "no record for that transaction")
        return reply(204)

    def _list(self, request: Request, match: re.Match[str]) -> Any:
        limit = page_limit(request.query)
        raw = request.query.get("cursor")
        cursor = None
        if raw is not None:
            parsed = CURSOR.fullmatch(raw)
            if parsed is None:
                raise Refused(400, "bad_request", "not a cursor this billing system gave")
            cursor = (parsed["mid"], parsed["code"])
        rows = self.ledger.after(cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        after = f"{rows[-1][0]}.{rows[-1][1]}" if more and rows else None
        return reply(200, {"records": [entry for _, _, entry in rows], "next_cursor": after})


def _path_code(match: re.Match[str]) -> str:
    code = match["code"]
    if not re.fullmatch(CODE, code):
        raise Refused(400, "bad_request", "a transaction code is eight digits")
    return code
