"""A supervisor's hand on billing: read a transaction's record, send one, delete one; audited.

For the rare record the queue cannot mend: billing rebuilt from a backup, a record sent for
the wrong transaction. Every change is written to the audit log with who made it and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from activation.lifecycle.assignment import billing_record
from activation.parties.ports import BillingRecord, BillingUnavailable
from activation.services import Services
from activation.store import audit
from activation.store.models import Transaction


@dataclass(frozen=True)
class Inquiry:
    """What billing holds for a transaction, and what CAS would send for it."""

    record: BillingRecord | None
    draft: BillingRecord | None  # the transaction's record as CAS holds it, if CAS knows it
    problem: str = ""


def inquire(services: Services, code: str) -> Inquiry:
    """Ask billing for a transaction's record (a billing system down is said, not raised)."""
    record, problem = None, ""
    try:
        record = services.billing.inquire(code)
    except BillingUnavailable as exc:
        problem = f"Billing system unavailable: {exc}"
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        draft = billing_record(tx) if tx is not None else None
    return Inquiry(record, draft, problem)


def send(services: Services, record: BillingRecord, actor: str) -> None:
    """Send a record by hand (it replaces the transaction's); BillingUnavailable when down."""
    services.billing.submit(record)
    with services.db.transaction() as session:
        detail = f"by hand, MID {record.mid}"
        audit.record(session, "billing", record.transaction_code, None, "inserted", actor, detail)


def delete(services: Services, code: str, reason: str, actor: str) -> bool:
    """Delete a transaction's record by hand, with the reason; tell whether there was one."""
    existed = services.billing.delete(code)
    if existed:
        with services.db.transaction() as session:
            audit.record(session, "billing", code, None, "deleted", actor, reason)
    return existed
