"""Send an open re-order to headquarters' warehouse; the same reference on every attempt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from activation.parties.ports import ReorderRequest
from activation.services import Services
from activation.store import audit
from activation.store.inventory import Reorder
from activation.store.models import Activity


def reference(reorder_id: int) -> str:
    """The warehouse's name for a CAS re-order."""
    return f"CAS-R{reorder_id}"


class WarehouseReorder:
    """Ask the warehouse to ship a re-order; one closed meanwhile is not sent."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        p = activity.payload
        reorder = session.get(Reorder, p["reorder_id"])
        if reorder is None or reorder.state != "open":
            return None
        request = ReorderRequest(
            reference(reorder.id), p["agent_code"], p["product_code"], int(p["quantity"])
        )
        return request, f"cas-warehouse_reorder-{activity.id}"

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        if work is None:
            return {"outcome": "withdrawn"}
        request, key = work
        services.warehouse.reorder(request, key)
        return {"outcome": "sent", "reference": request.reference}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        reorder = session.get(Reorder, activity.payload["reorder_id"])
        if reorder is None or result["outcome"] != "sent":
            return
        reorder.warehouse_ref = result["reference"]
        detail = f"sent to the warehouse as {result['reference']}"
        audit.record(
            session, "reorder", str(reorder.id), reorder.state, reorder.state, "worker", detail
        )
