"""The outside parties CAS talks to, as small ports; each has a real adapter and a simulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CreditReport:
    """What the credit bureau knows of an SSN or business tax id."""

    name: str
    address: str
    score: int


class BureauUnavailable(Exception):
    """The credit bureau could not be reached; the check is retried."""


class CreditBureau(Protocol):
    """Expands an SSN to name, address and credit score."""

    def report(self, kind: str, tax_id: str) -> CreditReport | None:
        """Return the bureau's report, or None when it has no record."""
        ...


class PositiveValidation(Protocol):
    """The positive validation system: is this handset listed (in service elsewhere)?"""

    def is_listed(self, esn: str) -> bool: ...


@dataclass(frozen=True)
class BillingRecord:
    """What billing needs to start charging a new subscriber."""

    transaction_code: str
    mid: str
    esn: str
    rate_plan: str
    customer_name: str
    customer_address: str
    deposit_cents: int
    deposit_method: str
    # active / suspended / disconnected: a line's change is the same record sent again
    line_state: str = "active"


class BillingUnavailable(Exception):
    """The billing system is down; the record waits in the pending queue."""


class BillingSystem(Protocol):
    """Accepts billing records; answers what it holds."""

    def submit(self, record: BillingRecord) -> None:
        """Store the record; submitting the same transaction twice keeps one record."""
        ...

    def inquire(self, transaction_code: str) -> BillingRecord | None:
        """Return the record held for a transaction, or None."""
        ...

    def delete(self, transaction_code: str) -> bool:
        """Remove the record of a transaction; tell whether there was one."""
        ...


class TelephonyUnavailable(Exception):
    """The telephony provider did not take the call; the call-back is retried."""


class Telephony(Protocol):
    """Places outbound calls (call-backs to agents) through the telephony provider."""

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        """Start a call to `to` that runs the TwiML at `url`; return the provider's call id."""
        ...
