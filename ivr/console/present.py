"""How the console shows a transaction: every value entered so far, the SSN masked."""

from __future__ import annotations

from datetime import datetime

from activation.call.engine import STEPS
from activation.store.models import Agent, Transaction

# Steps that are not the call's, named as a CSR knows them.
OTHER_STEPS = {
    "comparison": "nightly comparison",
    "order": "order on the line",
    "callback": "call-back",
}

ACTIVITY_TYPES = {
    "credit_check": "credit check",
    "switch_insert": "number onto the switch",
    "billing_record": "billing record",
    "switch_delete": "number off the switch",
    "billing_delete": "billing record withdrawn",
    "e911_register": "E911 registration",
    "e911_remove": "E911 removal",
    "callback": "call-back to the agent",
    "welcome_letter": "welcome letter",
    "switch_change": "line change on the switch",
    "billing_update": "billing update",
    "order_notice": "order notice to the partner",
}

ESCALATION_KINDS = {
    "asked_for_csr": "agent asked for a CSR",
    "no_input": "no entry",
    "bad_entry": "wrong entries",
    "agent_log_on": "agent log-on",
    "handset": "handset",
    "credit": "credit",
    "no_number": "no free number",
    "switch": "switch",
    "callback": "call-back",
    "comparison": "nightly comparison",
    "queue": "work removed",
    "e911": "E911",
    "order": "order",
    "other": "other",
}


FINDING_KINDS = {
    "missing_on_switch": "missing on the switch",
    "unknown_to_cas": "unknown to CAS",
    "esn_mismatch": "another ESN",
    "feature_mismatch": "other features",
    "state_mismatch": "another line state",
}


def finding_words(kind: str) -> str:
    """Name a comparison finding's kind in words."""
    return FINDING_KINDS.get(kind, kind.replace("_", " "))


def step_words(step: str | None) -> str:
    """Name a step of the call (or of the work after it) as a CSR knows it: "ESN", "NPA-NXX"."""
    if not step:
        return ""
    known = STEPS.get(step)
    if known is not None and known.label:
        return known.label
    return OTHER_STEPS.get(step, step.replace("_", " "))


def activity_words(kind: str) -> str:
    """Name a queue's activity type in words."""
    return ACTIVITY_TYPES.get(kind, kind.replace("_", " "))


def kind_words(kind: str) -> str:
    """Name an escalation's kind in words."""
    return ESCALATION_KINDS.get(kind, kind.replace("_", " "))


def agent_words(agent: Agent | None) -> str:
    """Show an agent by the code they key and their name, never the database id."""
    return "" if agent is None else f"{agent.agent_code} {agent.name}".strip()


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
        ("Step", step_words(tx.step)),
        ("Agent", agent_words(tx.agent)),
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
        ("MID", dashed(tx.mid)),
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
