"""One side's findings of a comparison run, collected and written in batches.

The merge hands over records, (MID, ESN, features, state), never ORM rows: what a finding needs
besides (the transaction behind a MID CAS holds, how CAS holds a MID it does not hold active)
is looked up once per batch of findings, when they are written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from activation.store.comparison import (
    DUPLICATE,
    ESN_MISMATCH,
    FEATURE_MISMATCH,
    IN_FLIGHT,
    MISSING_ON_SWITCH,
    STATE_MISMATCH,
    UNKNOWN_TO_CAS,
    ComparisonFinding,
)
from activation.store.db import Database
from activation.store.models import TelephoneNumber, Transaction
from switch_adapters.port import Record

FLUSH = 1000  # findings written at a time


class Findings:
    """Collects one side's findings (a switch's here) and writes them in batches."""

    def __init__(self, db: Database, run_id: int, switch: str, in_flight: dict[str, str]):
        """`in_flight`: the MIDs with work under way, each with what is (in_flight.switch_work)."""
        self.db = db
        self.run_id = run_id
        self.switch = switch
        self.in_flight = in_flight
        self.in_flight_seen: set[str] = set()
        self.pending: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        mid: str,
        cas: Record | None,
        sub: Record | None,
        detail: str = "",
        *,
        transaction_id: int | None = None,
        billed_code: str | None = None,
    ) -> None:
        """Record one finding: CAS's record of the MID and the side's, where they have one."""
        self.pending.append(
            {
                "run_id": self.run_id,
                "switch_name": self.switch,
                "kind": kind,
                "mid": mid[:16],
                "cas_esn": cas[1] if cas else None,
                "switch_esn": sub[1][:18] if sub else None,
                "cas_features": (cas[2] or None) if cas else None,
                "switch_features": sub[2][:80] if sub else None,
                "cas_state": cas[3] if cas else None,
                "switch_state": sub[3][:12] if sub else None,
                "billed_code": billed_code,
                "transaction_id": transaction_id,
                "repair": "",
                "repair_ref": "",
                "detail": detail[:200],
            }
        )
        if len(self.pending) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write what is collected, with the transactions behind the MIDs."""
        if self.pending:
            with self.db.transaction() as session:
                self._explain(session)
                session.execute(insert(ComparisonFinding), self.pending)
            self.pending = []

    def _explain(self, session: Session) -> None:
        """Fill in each finding's transaction, and tell how CAS holds MIDs unknown to it."""
        by_mid: dict[str, list[dict[str, Any]]] = {}
        for finding in self.pending:
            by_mid.setdefault(finding["mid"], []).append(finding)
        held = session.execute(
            select(
                TelephoneNumber.mid,
                TelephoneNumber.status,
                TelephoneNumber.transaction_id,
                Transaction.rate_plan_code,
            )
            .outerjoin(Transaction, Transaction.id == TelephoneNumber.transaction_id)
            .where(TelephoneNumber.mid.in_(sorted(by_mid)))
        )
        for mid, status, transaction_id, plan in held:
            for finding in by_mid.pop(mid):
                finding["transaction_id"] = transaction_id
                if finding["kind"] == UNKNOWN_TO_CAS:
                    finding["detail"] = f"{status} in CAS"
                elif finding["cas_esn"] is not None and finding["cas_features"] is None:
                    finding["cas_features"] = plan  # a switch that keeps no features
        for findings in by_mid.values():
            for finding in findings:
                if finding["kind"] == UNKNOWN_TO_CAS:
                    finding["detail"] = "not in CAS's number inventory"

    def flying(
        self, mid: str, where: str, cas: Record | None = None, sub: Record | None = None
    ) -> None:
        """Record a MID with work under way on it."""
        self.in_flight_seen.add(mid)
        self.add(IN_FLIGHT, mid, cas, sub, f"{self.in_flight[mid]}; {where}")

    def cas_only(self, cas: Record) -> None:
        """CAS holds the MID active; the switch does not."""
        if cas[0] in self.in_flight:
            self.flying(cas[0], "active in CAS, not on the switch", cas)
        else:
            self.add(MISSING_ON_SWITCH, cas[0], cas, None)

    def switch_only(self, sub: Record) -> None:
        """The switch holds the MID; CAS does not hold it active."""
        if sub[0] in self.in_flight:
            self.flying(sub[0], "on the switch, not yet active in CAS", None, sub)
        else:
            self.add(UNKNOWN_TO_CAS, sub[0], None, sub)

    def both(self, cas: Record, sub: Record, keeps_features: bool) -> None:
        """Both hold the MID and something differs (or it is in flight)."""
        if sub[0] in self.in_flight:
            self.flying(sub[0], "active in CAS and on the switch", cas, sub)
            return
        if cas[1] != sub[1]:
            self.add(ESN_MISMATCH, sub[0], cas, sub)
        if keeps_features and cas[2] != sub[2]:
            self.add(FEATURE_MISMATCH, sub[0], cas, sub)
        if cas[3] != sub[3]:
            self.add(STATE_MISMATCH, sub[0], cas, sub, f"{cas[3]} in CAS, {sub[3]} on the switch")

    def duplicate(self, sub: Record, first: Record) -> None:
        """The dump gave a MID again."""
        same = tuple(sub) == tuple(first)
        detail = "line repeated" if same else "repeated with other values; the first compared"
        self.add(DUPLICATE, sub[0], None, sub, detail)


__all__ = ["FLUSH", "Findings"]
