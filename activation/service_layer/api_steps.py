"""What each step of the call asks for, told to a machine: the keys and what they mean."""

from __future__ import annotations

from typing import Any

from activation.call.engine import STEPS

# The same choices the voice prompts offer, by step.
CHOICES: dict[str, dict[str, str]] = {
    "tx_code": {"1": "repeat the transaction code", "2": "continue"},
    "esn_confirm": {"1": "the ESN is right", "2": "enter it again"},
    "kind": {"1": "individual customer", "2": "business customer"},
    "ssn_confirm": {"1": "the SSN or tax ID is right", "2": "enter it again"},
    "name_confirm": {"1": "name and address are right", "2": "they are not"},
    "decline": {"1": "speak to a CSR", "2": "end"},
    "deposit": {"1": "deposit paid in cash", "2": "deposit paid by check"},
    "plan_confirm": {"1": "the rate plan is right", "2": "enter another"},
    "npa_confirm": {"1": "the NPA-NXX is right", "2": "enter it again"},
    "delayed": {
        "1": "retry the switch now",
        "2": "end; ask later with the transaction code",
        "3": "end; be called back when it completes",
    },
    "mid": {"1": "repeat the number", "2": "end"},
}

# What a free entry at each step is.
ENTRIES: dict[str, str] = {
    "agent_id": "the agent ID",
    "pin": "the agent's PIN",
    "menu": "'#' for a new transaction, or a transaction code to resume",
    "esn": "the handset's ESN (11 digits) or IMEI (15 digits)",
    "ssn": "the customer's SSN, or the business tax ID (9 digits)",
    "rate_plan": "the rate plan code",
    "npa_nxx": "the NPA-NXX of the new number (6 digits)",
}


def expects(step_name: str) -> dict[str, Any]:
    """Describe the entry a step takes: its length, or its choices; '0' always reaches a CSR."""
    step = STEPS[step_name]
    if step.choices:
        choices = {key: CHOICES.get(step_name, {}).get(key, key) for key in step.choices}
        return {"kind": "choice", "choices": {**choices, "0": "speak to a CSR"}}
    return {
        "kind": "digits",
        "what": ENTRIES.get(step_name, step_name),
        "min_digits": step.min_digits,
        "max_digits": step.max_digits,
        "choices": {"0": "speak to a CSR"},
    }
