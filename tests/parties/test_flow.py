"""A whole activation with every outside party a simulator process reached over HTTP.

CAS is configured as a carrier would configure it: CAS_PARTNERS unset, each party's URL and
token given. The agent activates a customer by phone; the billing record and the E911
registration end up held by those processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from activation.parties.billing import HttpBilling, billing_client
from activation.parties.bureau import HttpBureau
from activation.parties.e911 import HttpE911, e911_client
from activation.parties.ports import BillingRecord, E911Registration
from activation.parties.pvs import HttpPVS
from activation.parties.sim_process import PartnerSimProcess
from activation.services import Services
from activation.settings import PARTIES, PartyLink, Settings
from activation.store.models import Activity, Transaction
from ivr.bootstrap import bootstrap
from tests.flow.conftest import app, log_on, phone, switches  # noqa: F401
from tests.flow.test_activation import new_transaction, through_credit
from tests.queue.conftest import wait_for

from .conftest import TOKEN, start

ESN = "13803186457"


@pytest.fixture
def partners(tmp_path: Path) -> Iterator[dict[str, PartnerSimProcess]]:
    """A fresh simulator process of each party."""
    started = {}
    try:
        for party in PARTIES:
            started[party] = start(party, tmp_path / "partners" / party)
        yield started
    finally:
        for sim in started.values():
            sim.stop()


@pytest.fixture
def services(settings: Settings, partners) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    """CAS with every party configured by URL and token, nothing simulated in-process."""
    links = {f"{p}_link": PartyLink(url=partners[p].url, token=TOKEN) for p in PARTIES}
    configured = replace(settings, partners="", **links)  # type: ignore[arg-type]
    assert configured.partner_problems() == []
    built = bootstrap(configured)
    yield built
    built.db.dispose()


def test_an_activation_reaches_every_outside_party_over_the_network(
    phone,  # noqa: F811
    services,
    worker,
    switches,  # noqa: F811
    partners,
):  # type: ignore[no-untyped-def]
    assert isinstance(services.bureau, HttpBureau) and isinstance(services.pvs, HttpPVS)
    assert isinstance(services.billing, HttpBilling) and isinstance(services.e911, HttpE911)
    call = log_on(phone)
    code = new_transaction(call)
    through_credit(call, esn=ESN)  # the PVS and the bureau, over HTTP
    assert "Jane Q Public, 12 Main Street, Houston, Texas" in call.last_prompt
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    mid = call.last_prompt.split("The new number is ")[1].split(".")[0]
    mid = mid.replace(",", "").replace(" ", "")
    assert "Goodbye" in call.press("2")

    def follow_ups_done() -> bool:
        with services.db.read() as session:
            states = session.scalars(select(Activity.state)).all()
        return len(states) == 4 and set(states) == {"done"}

    wait_for(follow_ups_done, 30, "the credit check, insertion, billing record and E911")
    with services.db.read() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        types = session.scalars(select(Activity.type).order_by(Activity.id)).all()
    assert tx.status == "active" and tx.mid == mid
    assert types == ["credit_check", "switch_insert", "billing_record", "e911_register"]
    # What the processes hold, asked through a fresh adapter of each.
    billing = HttpBilling(billing_client(partners["billing"].url, 5, token=TOKEN))
    assert billing.inquire(code) == BillingRecord(
        code, mid, ESN, "10", "Jane Q Public", "12 Main Street, Houston, Texas", 0, ""
    )
    assert [r.transaction_code for r in billing.page().records] == [code]
    assert HttpE911(e911_client(partners["e911"].url, 5, token=TOKEN)).every() == [
        E911Registration(mid, code, "Jane Q Public", "12 Main Street, Houston, Texas")
    ]
