"""Bootstrap: choose the adapters behind each port and hand them to the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .db import Database
from .ports import (
    BillingSystem,
    CreditBureau,
    PositiveValidation,
    Telephony,
    TelephonyUnavailable,
)
from .secrets import Vault, load_master_secret
from .settings import Settings
from .simulators import SimulatedBilling, SimulatedBureau, SimulatedPVS
from .switching import SwitchGateway


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


class NoTelephony:
    """Stands in while no telephony adapter is installed: call-backs wait and are retried."""

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        raise TelephonyUnavailable("no telephony adapter is installed")


# Adapters that live above the domain (Twilio's, in ivr/) install a factory here, so that
# activation never imports them: port name -> factory taking the settings.
ADAPTERS: dict[str, Callable[[Settings], object]] = {}


def bootstrap(settings: Settings, **overrides: object) -> Services:
    """Build the services for these settings; tests pass other adapters as overrides."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, object] = {
        "settings": settings,
        "db": Database(settings.db_url),
        "vault": Vault(load_master_secret(settings.secret_key, settings.data_dir)),
        "bureau": SimulatedBureau(),
        "pvs": SimulatedPVS(),
        "billing": SimulatedBilling(settings.data_dir / "billing"),
        "switches": SwitchGateway(settings.switch_deadline),
        "telephony": NoTelephony(),
    }
    parts.update({port: make(settings) for port, make in ADAPTERS.items()})
    parts.update(overrides)
    return Services(**parts)  # type: ignore[arg-type]
