"""Activations finishing at the same moment open one re-order per shortfall, never more."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from activation.inventory import sales
from activation.services import Services
from activation.settings import Settings
from activation.store.inventory import Reorder, StockLevel
from activation.store.models import Activity, Agent, Transaction
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap

from ..conftest import TEST_SECRET
from ..lifecycle.conftest import together
from ..pg import POSTGRES_URL, private_database
from ..queue.conftest import active_transaction

ESNS = ("13803186457", "13803186458", "13803186459", "13803186460")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="CAS_TEST_POSTGRES_URL not set"),
        ),
    ]
)
def engine_services(request, settings: Settings) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        built = bootstrap(settings)
        yield built
        built.db.dispose()
        return
    with private_database() as url:
        settings = replace(settings, database_url=url, secret_key=TEST_SECRET)
        init_database(settings, demo=True)
        built = bootstrap(settings)
        yield built
        built.db.dispose()


def _lines(services: Services, minimum: int) -> tuple[int, list[int]]:
    """Agent 1001's four MT100 handsets on four lines about to go active."""
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        session.execute(
            update(StockLevel)
            .where(StockLevel.agent_id == agent, StockLevel.product_code == "MT100")
            .values(minimum=minimum)
        )
        ids = []
        for n, esn in enumerate(ESNS):
            tx = active_transaction(session, f"6000000{n}", f"713555020{n}", esn=esn)
            ids.append(tx.id)
        from activation.store.models import Handset

        for esn in ESNS:  # the helper marks them active by hand: back in stock to be sold
            handset = session.get(Handset, esn)
            handset.status, handset.location = "in_stock", "at_agent"
        return agent, ids


def _sell(services: Services, tx_id: int) -> None:
    with services.db.transaction() as session:
        tx = session.get_one(Transaction, tx_id)
        sales.sell(session, tx, tx.esn or "", "worker", "activated")


@pytest.mark.parametrize("minimum", [3, 10])
def test_concurrent_activations_open_one_reorder(engine_services, minimum):
    services = engine_services
    agent, ids = _lines(services, minimum)
    together(*[lambda i=i: _sell(services, i) for i in ids])
    with services.db.transaction() as session:
        opened = session.scalars(select(Reorder).where(Reorder.agent_id == agent)).all()
        assert [(r.product_code, r.state) for r in opened] == [("MT100", "open")]
        sent = session.scalars(select(Activity).where(Activity.type == "warehouse_reorder"))
        assert [a.payload["reorder_id"] for a in sent] == [opened[0].id]
