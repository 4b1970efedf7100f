"""The positive validation system's protocol (data/openapi/pvs.yaml): adapter and desk.

    GET /v1/handsets/{esn}    200 {"esn": "...", "listed": true|false}

Listed: the handset is in service elsewhere (or reported lost or stolen); CAS sends the
caller to a CSR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from activation.parties.client import PartyClient
from activation.parties.desk import Desk, Request, Route, reply
from activation.parties.ports import PvsUnavailable
from activation.settings import DATA_DIR

ESN = r"[0-9]{11}|[0-9]{15}"


class HttpPVS:
    """The positive validation system over HTTP (the PositiveValidation port)."""

    def __init__(self, client: PartyClient) -> None:
        self.client = client

    def is_listed(self, esn: str) -> bool:
        """Tell whether the PVS lists the handset."""
        if not re.fullmatch(ESN, esn):
            raise ValueError("an ESN is 11 digits, an IMEI 15")
        _, body = self.client.call("GET", f"/v1/handsets/{esn}")

        def listed() -> bool:
            value = body["listed"]
            if not isinstance(value, bool) or body["esn"] != esn:
                raise TypeError("listed is not a boolean for this ESN")
            return value

        return self.client.read(listed)


def pvs_client(base_url: str, deadline: float, **credentials: Any) -> PartyClient:
    """A client of the PVS protocol at base_url."""
    return PartyClient(
        "positive validation system",
        base_url,
        unavailable=PvsUnavailable,
        deadline=deadline,
        **credentials,
    )


class PvsDesk(Desk):
    """A positive validation system listing the ESNs of a JSON file (data/demo/pvs.json)."""

    party = "positive validation system"

    def __init__(self, path: Path = DATA_DIR / "demo" / "pvs.json", **credentials: str) -> None:
        super().__init__(**credentials)
        self._listed = frozenset(json.loads(path.read_text())["listed"])

    def routes(self) -> Sequence[Route]:
        return [("GET", re.compile(r"/v1/handsets/(?P<esn>[^/]+)"), self._handset)]

    def _handset(self, request: Request, match: re.Match[str]) -> Any:
        esn = match["esn"]
        if not re.fullmatch(ESN, esn):
            return reply(400, {"error": "bad_request", "message": "an ESN is 11 or 15 digits"})
        return reply(200, {"esn": esn, "listed": esn in self._listed})
