"""The composition root: the one place where each port gets its adapter.

Every entry point (the web app, `cas worker`, `cas compare`, the demo, the benchmarks) builds
its services here. Tests pass other adapters as keyword arguments; nothing registers itself
by being imported.
"""

from __future__ import annotations

from activation.parties.simulators import SimulatedBilling, SimulatedBureau, SimulatedPVS
from activation.parties.switching import SwitchGateway
from activation.secrets import Vault, load_master_secret
from activation.services import NoTelephony, Services
from activation.settings import Settings
from activation.store.db import Database

from .telephony import TwilioTelephony


def bootstrap(settings: Settings, **overrides: object) -> Services:
    """Build the services for these settings; a test may pass any adapter as an override."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, object] = {
        "settings": settings,
        "db": Database(settings.db_url),
        "vault": Vault(load_master_secret(settings.secret_key, settings.data_dir)),
        "bureau": SimulatedBureau(),
        "pvs": SimulatedPVS(),
        "billing": SimulatedBilling(settings.data_dir / "billing"),
        "switches": SwitchGateway(settings.switch_deadline),
        "telephony": _telephony(settings),
    }
    parts.update(overrides)
    return Services(**parts)  # type: ignore[arg-type]


def _telephony(settings: Settings) -> object:
    """Call-backs go out through Twilio's REST API once an account is configured."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return NoTelephony()
    return TwilioTelephony(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.caller_id,
        settings.twilio_api_url,
    )
