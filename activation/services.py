"""The services the use cases run on: settings, database, vault and one adapter per port.

They are built in one place only, `ivr.bootstrap.bootstrap(settings)`, the composition root;
nothing here chooses an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from activation.parties.ports import (
    AddressRegistry,
    BillingSystem,
    CreditBureau,
    PositiveValidation,
    Telephony,
    TelephonyUnavailable,
    Warehouse,
)
from activation.parties.switching import SwitchGateway
from activation.secrets import Vault
from activation.settings import Settings
from activation.store.db import Database


@dataclass
class Services:
    """Everything the call flow and the worker need, chosen once."""

    settings: Settings
    db: Database
    vault: Vault
    bureau: CreditBureau
    pvs: PositiveValidation
    billing: BillingSystem
    switches: SwitchGateway
    telephony: Telephony
    e911: AddressRegistry
    warehouse: Warehouse


class NoTelephony:
    """Stands in while no telephony account is configured: call-backs wait and are retried."""

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        raise TelephonyUnavailable("no telephony account is configured")
