"""The outside parties CAS talks to, as small ports; each has a real adapter and a simulator.

The network adapters speak the protocols written down in data/openapi/ (one document per
party); the simulators answer the same protocols in-process or as `cas partner-sim` processes.
Every adapter raises its party's `...Unavailable` for anything that is not an answer (down,
late, refused credentials, garbled): the caller retries it as an activity, or sends a waiting
caller to a CSR.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class PartyUnavailable(Exception):
    """An outside party gave no usable answer (down, past its deadline, garbled, refused)."""


class KeyReused(PartyUnavailable):
    """An idempotency key came back with another request than the one it first named."""


@dataclass(frozen=True)
class CreditReport:
    """What the credit bureau knows of an SSN or business tax id."""

    name: str
    address: str
    score: int


class BureauUnavailable(PartyUnavailable):
    """The credit bureau could not be reached; the check is retried."""


class CreditBureau(Protocol):
    """Expands an SSN to name, address and credit score."""

    def report(self, kind: str, tax_id: str) -> CreditReport | None:
        """Return the bureau's report, or None when it has no record."""
        ...


class PvsUnavailable(PartyUnavailable):
    """The positive validation system gave no answer; the caller goes to a CSR."""


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


@dataclass(frozen=True)
class BillingPage:
    """One page of the records billing holds, ordered by MID (then transaction code)."""

    records: tuple[BillingRecord, ...]
    next_cursor: str | None  # None: this was the last page


class BillingUnavailable(PartyUnavailable):
    """The billing system is down; the record waits in the pending queue."""


class BillingSystem(Protocol):
    """Accepts billing records; answers what it holds."""

    def submit(self, record: BillingRecord, key: str | None = None) -> None:
        """Store the record; submitting the same transaction twice keeps one record.

        `key` (the idempotency key) is the same for every retry of one submission: billing
        answers a retry with the first answer instead of doing it twice.
        """
        ...

    def inquire(self, transaction_code: str) -> BillingRecord | None:
        """Return the record held for a transaction, or None."""
        ...

    def delete(self, transaction_code: str) -> bool:
        """Remove the record of a transaction; tell whether there was one."""
        ...

    def page(self, cursor: str | None = None, limit: int = 500) -> BillingPage:
        """Return the records held after `cursor` (None: from the first), ordered by MID."""
        ...


def every_record(billing: BillingSystem, page_size: int = 500) -> Iterator[BillingRecord]:
    """Stream billing's records page by page, ordered by MID (for the nightly comparison)."""
    cursor: str | None = None
    while True:
        page = billing.page(cursor, page_size)
        yield from page.records
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass(frozen=True)
class E911Registration:
    """A line's service address as registered for 911 calls from its number."""

    mid: str
    transaction_code: str
    customer_name: str
    service_address: str


class E911Unavailable(PartyUnavailable):
    """The E911 provider gave no answer; the registration is retried."""


class E911Refused(Exception):
    """The E911 provider refused the address (it cannot route 911 calls to it); a CSR's work."""


class AddressRegistry(Protocol):
    """The E911 address-registration provider: where a number's 911 calls are sent."""

    def register(self, registration: E911Registration, key: str | None = None) -> None:
        """Register the number's service address (replacing any earlier one of that number).

        Raises E911Refused when the provider cannot route 911 calls to the address.
        """
        ...

    def lookup(self, mid: str) -> E911Registration | None:
        """Return the registration held for a number, or None."""
        ...

    def remove(self, mid: str, transaction_code: str, key: str | None = None) -> bool:
        """Remove the number's registration if it is this transaction's; tell whether it was."""
        ...


@dataclass(frozen=True)
class ReorderRequest:
    """A re-order to headquarters' warehouse: so many of a product for an agent."""

    reference: str
    agent_code: str
    product_code: str
    quantity: int


class WarehouseUnavailable(PartyUnavailable):
    """The warehouse could not be reached; the re-order is retried."""


class Warehouse(Protocol):
    """Headquarters' warehouse: takes re-orders of agents' stock."""

    def reorder(self, request: ReorderRequest, key: str | None = None) -> None:
        """Send a re-order; the same reference sent again is the same re-order."""
        ...

    def lookup(self, reference: str) -> ReorderRequest | None:
        """The re-order held under a reference, or None."""
        ...


class TelephonyUnavailable(Exception):
    """The telephony provider did not take the call; the call-back is retried."""


class Telephony(Protocol):
    """Places outbound calls (call-backs to agents) through the telephony provider."""

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        """Start a call to `to` that runs the TwiML at `url`; return the provider's call id."""
        ...
