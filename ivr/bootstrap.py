"""The composition root: the one place where each port gets its adapter.

Every entry point (the web app, `cas worker`, `cas compare`, the demo, the benchmarks) builds
its services here. Tests pass other adapters as keyword arguments; nothing registers itself
by being imported. An outside party with a URL in the settings is reached over the network;
one without is simulated in-process, and only when CAS_PARTNERS=simulated says so.
"""

from __future__ import annotations

from activation.parties.billing import HttpBilling, billing_client
from activation.parties.bureau import HttpBureau, bureau_client
from activation.parties.e911 import HttpE911, e911_client
from activation.parties.pvs import HttpPVS, pvs_client
from activation.parties.simulators import (
    SimulatedBilling,
    SimulatedBureau,
    SimulatedE911,
    SimulatedPVS,
    SimulatedWarehouse,
)
from activation.parties.switching import SwitchGateway
from activation.parties.warehouse import HttpWarehouse, warehouse_client
from activation.secrets import Vault, load_master_secret
from activation.services import NoTelephony, Services
from activation.settings import PartnersNotConfigured, Settings
from activation.store.db import Database

from .telephony import TwilioTelephony


def bootstrap(settings: Settings, **overrides: object) -> Services:
    """Build the services for these settings; a test may pass any adapter as an override.

    Raises PartnersNotConfigured when an outside party has no URL (or credentials) and
    CAS_PARTNERS does not say the simulators are wanted.
    """
    problems = settings.partner_problems()
    if problems:
        raise PartnersNotConfigured(problems)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, object] = {
        "settings": settings,
        "db": Database(settings.db_url),
        "vault": Vault(load_master_secret(settings.secret_key, settings.data_dir)),
        **_parties(settings),
        "switches": SwitchGateway(settings.switch_deadline),
        "telephony": _telephony(settings),
    }
    parts.update(overrides)
    return Services(**parts)  # type: ignore[arg-type]


def _parties(settings: Settings) -> dict[str, object]:
    """Each outside party over HTTP when it has a URL, else its in-process simulator."""
    late, pvs_late = settings.partner_deadline, settings.pvs_deadline
    bureau, pvs = settings.bureau_link, settings.pvs_link
    billing, e911 = settings.billing_link, settings.e911_link
    warehouse = settings.warehouse_link
    return {
        "bureau": (
            HttpBureau(bureau_client(bureau.url, late, **bureau.credentials))
            if bureau.url
            else SimulatedBureau(deadline=late)
        ),
        "pvs": (
            HttpPVS(pvs_client(pvs.url, pvs_late, **pvs.credentials))
            if pvs.url
            else SimulatedPVS(deadline=pvs_late)
        ),
        "billing": (
            HttpBilling(billing_client(billing.url, late, **billing.credentials))
            if billing.url
            else SimulatedBilling(settings.data_dir / "billing", deadline=late)
        ),
        "e911": (
            HttpE911(e911_client(e911.url, late, **e911.credentials))
            if e911.url
            else SimulatedE911(settings.data_dir / "e911", deadline=late)
        ),
        "warehouse": (
            HttpWarehouse(warehouse_client(warehouse.url, late, **warehouse.credentials))
            if warehouse.url
            else SimulatedWarehouse(settings.data_dir / "warehouse", deadline=late)
        ),
    }


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
