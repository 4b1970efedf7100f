"""The customer record, kept once the bureau's name and address are confirmed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from activation.store.models import Customer, Transaction


def keep_customer(session: Session, tx: Transaction) -> Customer:
    """Return the transaction's customer, creating it from what the bureau confirmed."""
    if tx.customer is not None:
        return tx.customer
    customer = Customer(
        kind=tx.customer_kind or "individual",
        ssn_hash=tx.ssn_hash or "",
        ssn_last4=tx.ssn_last4 or "",
        ssn_encrypted=tx.ssn_encrypted or "",
        name=tx.bureau_name or "",
        address=tx.bureau_address or "",
        credit_score=tx.credit_score,
        deposit_cents=tx.deposit_cents or 0,
        deposit_method=tx.deposit_method or "",
    )
    session.add(customer)
    session.flush()
    tx.customer_id = customer.id
    tx.customer = customer
    return customer
