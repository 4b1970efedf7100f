"""How the console shows a transaction: every value entered so far, the SSN masked."""

from __future__ import annotations

from datetime import datetime

from activation.store.models import Transaction


def masked_tax_id(tx: Transaction) -> str:
    """Show only the last four digits of the SSN or tax id."""
    if not tx.ssn_last4:
        return ""
    return f"**-***{tx.ssn_last4}" if tx.customer_kind == "business" else f"***-**-{tx.ssn_last4}"


def money(cents: int | None) -> str:
    """Format cents as dollars."""
    return "" if cents is None else f"${cents / 100:,.2f}"


def when(at: datetime | None) -> str:
    """Format a UTC time to the second."""
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


def values(tx: Transaction) -> list[tuple[str, str]]:
    """List what the transaction holds, in the order the call collects it."""
    return [
        ("Transaction code", tx.code),
        ("Status", tx.status),
        ("Step", tx.step),
        ("Agent", f"{tx.agent.agent_code} {tx.agent.name}" if tx.agent else ""),
        ("ESN", tx.esn or ""),
        ("Customer kind", tx.customer_kind or ""),
        ("SSN / tax ID", masked_tax_id(tx)),
        ("Name (bureau)", tx.bureau_name or ""),
        ("Address (bureau)", tx.bureau_address or ""),
        ("Credit score", "" if tx.credit_score is None else str(tx.credit_score)),
        ("Credit decision", tx.credit_decision or ""),
        ("Deposit", money(tx.deposit_cents)),
        ("Deposit paid by", tx.deposit_method or ""),
        ("Rate plan", tx.rate_plan_code or ""),
        ("NPA-NXX", tx.npa_nxx or ""),
        ("MID", tx.mid or ""),
        ("Switch", tx.switch_name or ""),
        ("Escalation reason", tx.escalation_reason or ""),
        ("Call-back asked", "yes" if tx.callback_requested else ""),
        ("Created", when(tx.created_at)),
        ("Completed", when(tx.completed_at)),
    ]


def dashed(mid: str | None) -> str:
    """Show a ten-digit MID as people write it: 713-555-0001."""
    if not mid or len(mid) != 10:
        return mid or ""
    return f"{mid[:3]}-{mid[3:6]}-{mid[6:]}"
