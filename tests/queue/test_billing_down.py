"""Billing down for an hour of simulated time: the records wait, then each goes out once."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from activation.jobs.worker import Worker
from activation.lifecycle.assignment import queue_billing as enqueue_billing
from activation.queue import activity_log
from activation.store.models import Activity, ActivityAttempt, Transaction
from activation.store.setup import init_database
from ivr.bootstrap import bootstrap
from tests.conftest import TEST_SECRET
from tests.pg import needs_postgres, private_database

from .conftest import Clock, LedgerBilling, active_transaction

CODES = [f"5000000{i}" for i in range(1, 7)]


def _queue_records(services, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        for i, code in enumerate(CODES, start=1):
            tx = active_transaction(session, code, f"713555{i:04d}", esn=f"1380318{i:04d}")
            enqueue_billing(session, tx)
        for activity in session.scalars(select(Activity)):
            activity.next_try_at = clock()


def _outage(services, clock: Clock, workers: int) -> None:  # type: ignore[no-untyped-def]
    billing = services.billing
    crew = [Worker(services, f"w{n}", clock=clock) for n in range(workers)]

    def drain_together() -> None:
        threads = [threading.Thread(target=w.drain) for w in crew]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    billing.set_down(True)
    for _ in range(360):  # an hour, ten seconds at a time
        drain_together()
        clock.advance(10)
    assert billing.accepted == []
    with services.db.transaction() as session:
        states = session.scalars(select(Activity.state)).all()
        assert states == ["pending"] * len(CODES)  # waiting, none given up
        tries = session.scalars(select(Activity.attempts)).all()
        # back-off 5, 30, 60, 300, 900, 900, 900 s: eight attempts fit in the hour
        assert all(7 <= n <= 9 for n in tries), tries

    billing.set_down(False)
    for _ in range(100):  # the longest back-off is 15 minutes
        drain_together()
        clock.advance(10)
    assert sorted(billing.accepted) == CODES  # every record, each exactly once
    assert [r.transaction_code for r in billing.records()] == CODES
    with services.db.transaction() as session:
        assert set(session.scalars(select(Activity.state))) == {"done"}
        logged = session.scalar(select(func.count()).select_from(ActivityAttempt))
        assert logged == session.scalar(select(func.sum(Activity.attempts)))
        lines = activity_log.for_transaction(session, CODES[0])
        agent_lines = activity_log.for_agent(session, "1001")
    assert [line.outcome for line in lines][-1] == "ok"
    assert {line.outcome for line in lines[:-1]} == {"retry"}
    assert "BillingUnavailable" in lines[0].answer
    assert len(agent_lines) == logged and agent_lines[0].started_at >= agent_lines[-1].started_at


def test_billing_down_an_hour_then_every_record_reaches_it_once(services):  # type: ignore[no-untyped-def]
    services.billing = LedgerBilling(services.settings.data_dir / "billing")
    clock = Clock()
    _queue_records(services, clock)
    _outage(services, clock, workers=2)


@needs_postgres
@pytest.mark.postgres
def test_billing_down_on_postgres_with_three_workers(settings):  # type: ignore[no-untyped-def]
    with private_database() as url:
        pg = replace(settings, database_url=url, secret_key=TEST_SECRET)
        init_database(pg, demo=True)
        services = bootstrap(pg, billing=LedgerBilling(settings.data_dir / "pg-billing"))
        try:
            clock = Clock()
            _queue_records(services, clock)
            _outage(services, clock, workers=3)
            with services.db.transaction() as session:
                assert session.scalar(select(func.count()).select_from(Transaction)) == 6
        finally:
            services.db.dispose()
