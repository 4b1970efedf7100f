"""The credit check: the bureau expands a tax id to name, address and score."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from activation.lifecycle import credit, states, unattended
from activation.lifecycle.states import Move
from activation.services import Services
from activation.store.models import Activity, Transaction


class CreditCheck:
    """Ask the credit bureau for name, address and score of the transaction's tax id."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        tx = session.get_one(Transaction, activity.transaction_id)
        return tx.customer_kind, tx.ssn_encrypted

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        kind, encrypted = work
        report = services.bureau.report(kind, services.vault.decrypt(encrypted))
        if report is None:
            return {"found": False}
        return {"found": True, **asdict(report)}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        tx = states.lock(session, activity.transaction_id or 0)
        if result["found"]:
            decision, deposit = credit.decide(session, result["score"])
            tx.bureau_name, tx.bureau_address = result["name"], result["address"]
            tx.credit_score, tx.credit_decision, tx.deposit_cents = (
                result["score"],
                decision,
                deposit,
            )
        else:
            tx.credit_decision = "unknown"
        detail = f"credit {tx.credit_decision}"
        if states.allowed(tx.status, Move.CREDIT_ANSWERED):
            states.move(session, tx, Move.CREDIT_ANSWERED, "worker", detail)
            if unattended.is_unattended(tx):
                unattended.proceed(session, tx)
        else:  # a CSR has it meanwhile: the answer is kept for them, the status is theirs
            states.note(session, tx, "worker", f"{detail} (transaction {tx.status})")
