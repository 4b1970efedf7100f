"""Transaction look-up by code, MID, ESN or agent, and one transaction's whole history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from activation.keyed import DIGITS
from activation.service_layer import line_page
from activation.store.models import (
    Activity,
    ActivityAttempt,
    Agent,
    AuditEntry,
    Escalation,
    Transaction,
)
from ivr.console import present
from ivr.console.auth import requires, services
from ivr.console.escalation_views import action_context

SEARCHES = {
    "code": "Transaction code",
    "mid": "MID",
    "esn": "ESN",
    "agent": "Agent ID",
    "status": "Status (e.g. abandoned)",
}


def search(session: Session, by: str, text: str) -> list[Transaction]:
    """Find transactions by one key; newest first, at most 100."""
    text = text.strip()
    if not text or by not in SEARCHES:
        return []
    query = select(Transaction).options(joinedload(Transaction.agent))
    if by == "code":
        query = query.where(Transaction.code == text)
    elif by == "mid":
        digits = "".join(ch for ch in text if ch in DIGITS)
        query = query.where(Transaction.mid == digits)
    elif by == "esn":
        query = query.where(Transaction.esn == text)
    elif by == "status":
        query = query.where(Transaction.status == text[:12])
    else:
        query = query.join(Agent, Agent.id == Transaction.agent_id).where(Agent.agent_code == text)
    return list(session.scalars(query.order_by(Transaction.id.desc()).limit(100)))


def history(session: Session, tx: Transaction) -> list[AuditEntry]:
    """Return the audit trail of a transaction, its activities and escalations, in order."""
    activity_ids = [
        str(i) for i in session.scalars(select(Activity.id).where(Activity.transaction_id == tx.id))
    ]
    escalation_ids = [
        str(i)
        for i in session.scalars(select(Escalation.id).where(Escalation.transaction_id == tx.id))
    ]
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                or_(
                    (AuditEntry.entity == "transaction") & (AuditEntry.entity_id == tx.code),
                    (AuditEntry.entity == "activity") & AuditEntry.entity_id.in_(activity_ids),
                    (AuditEntry.entity == "escalation") & AuditEntry.entity_id.in_(escalation_ids),
                    (AuditEntry.entity == "billing") & (AuditEntry.entity_id == tx.code),
                )
            )
            .order_by(AuditEntry.id)
        )
    )


def register(bp: Blueprint) -> None:
    """Add the look-up views to the console."""

    @bp.get("/lookup")
    @requires("csr")
    def lookup() -> Any:
        """Search transactions by code, MID, ESN or agent."""
        by, text = request.args.get("by", "code"), request.args.get("q", "")[:40]
        with services().db.read() as session:
            found = search(session, by, text)
            digits = "".join(ch for ch in text if ch in DIGITS)
            lines = line_page.numbered(session, digits) if by == "mid" and digits else []
            return render_template(
                "console/lookup.html",
                by=by,
                q=text,
                searches=SEARCHES,
                found=found,
                lines=lines,
                searched=bool(text.strip()),
                when=present.when,
            )

    @bp.get("/transactions/<code>")
    @requires("csr")
    def transaction(code: str) -> Any:
        """Show a transaction: values, history, activities with every attempt, escalations."""
        with services().db.read() as session:
            tx = session.scalar(select(Transaction).where(Transaction.code == code))
            if tx is None:
                abort(404, description=f"No transaction {code}.")
            acts = list(
                session.scalars(
                    select(Activity).where(Activity.transaction_id == tx.id).order_by(Activity.id)
                )
            )
            attempts = list(
                session.scalars(
                    select(ActivityAttempt)
                    .where(ActivityAttempt.activity_id.in_([a.id for a in acts]))
                    .order_by(ActivityAttempt.id)
                )
            )
            escs = list(
                session.scalars(
                    select(Escalation)
                    .where(Escalation.transaction_id == tx.id)
                    .order_by(Escalation.id)
                )
            )
            return render_template(
                "console/transaction.html",
                tx=tx,
                values=present.values(tx),
                audit=history(session, tx),
                activities=acts,
                attempts=attempts,
                escalations=escs,
                when=present.when,
                **action_context(session, tx),
            )
