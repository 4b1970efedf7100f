"""The credit bureau's protocol (data/openapi/bureau.yaml): CAS's adapter and the simulator's desk.

    POST /v1/reports {"kind": "individual"|"business", "tax_id": "123456789"}
        200 {"name", "address", "score"}    404 {"error": "no_record"}

The tax id travels in the body, never in a URL a proxy would log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from activation.parties.client import PartyClient, text, whole
from activation.parties.desk import Desk, Request, Route, field_of, json_body, refusal, reply
from activation.parties.ports import BureauUnavailable, CreditReport
from activation.settings import DATA_DIR

# The protocol's bounds (data/openapi/bureau.yaml), which are what CAS keeps of a customer.
NAME_LONGEST, ADDRESS_LONGEST = 120, 200

KINDS = ("individual", "business")
TAX_ID = r"[0-9]{9}"


class HttpBureau:
    """The credit bureau over HTTP (the CreditBureau port)."""

    def __init__(self, client: PartyClient) -> None:
        self.client = client

    def report(self, kind: str, tax_id: str) -> CreditReport | None:
        """Return the bureau's report of the tax id, or None when it has no record."""
        status, body = self.client.call(
            "POST", "/v1/reports", body={"kind": kind, "tax_id": tax_id}, expect=(200, 404)
        )
        if status == 404:
            return None
        return self.client.read(
            lambda: CreditReport(
                text(body, "name", NAME_LONGEST),
                text(body, "address", ADDRESS_LONGEST),
                whole(body, "score", 0, 999),
            )
        )


def bureau_client(base_url: str, deadline: float, **credentials: Any) -> PartyClient:
    """A client of the bureau's protocol at base_url."""
    return PartyClient(
        "credit bureau", base_url, unavailable=BureauUnavailable, deadline=deadline, **credentials
    )


class BureauDesk(Desk):
    """A credit bureau answering from a JSON file of reports (data/demo/bureau.json)."""

    party = "credit bureau"

    def __init__(self, path: Path = DATA_DIR / "demo" / "bureau.json", **credentials: str) -> None:
        super().__init__(**credentials)
        self._reports = {row["ssn"]: row for row in json.loads(path.read_text())}

    def routes(self) -> Sequence[Route]:
        return [("POST", re.compile(r"/v1/reports"), self._report)]

    def _report(self, request: Request, match: re.Match[str]) -> Any:
        body = json_body(request)
        kind = field_of(body, "kind", "|".join(KINDS))
        tax_id = field_of(body, "tax_id", TAX_ID)
        row = self._reports.get(tax_id)
        if row is None:
            return refusal(404, "no_record", f"no {kind} record for that tax id")
        return reply(200, {"name": row["name"], "address": row["address"], "score": row["score"]})
