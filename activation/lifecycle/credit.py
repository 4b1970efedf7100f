"""The credit decision: the deposit table turns a score into approve/decline and a deposit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.store.models import DepositRule


def decide(session: Session, score: int) -> tuple[str, int]:
    """Return (decision, deposit in cents) for a credit score; no band means decline."""
    rule = session.scalar(
        select(DepositRule).where(DepositRule.min_score <= score, DepositRule.max_score >= score)
    )
    if rule is None:
        return "decline", 0
    return rule.decision, rule.deposit_cents
