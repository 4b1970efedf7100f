"""An idle worker on PostgreSQL is woken by a queued activity's notice, not by its next poll."""

from __future__ import annotations

import threading
import time

import pytest

from activation.jobs.worker import Worker
from activation.queue import activities
from activation.services import Services
from activation.store.models import Activity
from tests.pg import needs_postgres, statements_sent

from .conftest import billing_record

RECORD = billing_record()


@needs_postgres
@pytest.mark.postgres
def test_a_queued_activity_wakes_an_idle_worker_at_once(pg_services: Services) -> None:
    services = pg_services
    stop = threading.Event()
    # Polling every minute: only the notice can make it run the activity in time.
    runner = threading.Thread(target=Worker(services).run, args=(stop, 60.0))
    runner.start()
    try:
        time.sleep(1.0)  # the worker found nothing and waits
        with services.db.transaction() as session:
            activity_id = activities.enqueue(session, "billing_record", RECORD).id
        queued = time.monotonic()
        state = "pending"
        while time.monotonic() - queued < 10 and state in ("pending", "running"):
            time.sleep(0.05)
            with services.db.read() as session:
                state = session.get_one(Activity, activity_id).state
        assert state == "done"
        assert time.monotonic() - queued < 5
    finally:
        stop.set()
        runner.join(timeout=5)
    assert not runner.is_alive()  # stop is seen within a wait, however long the idle time


@needs_postgres
@pytest.mark.postgres
def test_a_transaction_queuing_several_activities_sends_one_notice(
    pg_services: Services,
) -> None:
    notices = statements_sent(pg_services.db.engine, "NOTIFY")
    with pg_services.db.transaction() as session:
        for _ in range(3):
            activities.enqueue(session, "billing_record", RECORD)
    assert len(notices) == 1
    with pg_services.db.transaction() as session:  # the next transaction announces anew
        activities.enqueue(session, "billing_record", RECORD)
    assert len(notices) == 2


@needs_postgres
@pytest.mark.postgres
def test_activities_queued_for_the_commit_go_in_one_insert_and_still_wake(
    pg_services: Services,
) -> None:
    inserts = statements_sent(pg_services.db.engine, "INSERT INTO activities")
    notices = statements_sent(pg_services.db.engine, "NOTIFY")
    with pg_services.db.transaction() as session:
        queued = [
            activities.enqueue(session, "billing_record", RECORD, flush=False) for _ in range(3)
        ]
        assert [a.id for a in queued] == [None] * 3 and inserts == []  # no row until the flush
    assert len(inserts) == 1 and len(notices) == 1
    with pg_services.db.read() as session:
        states = [session.get_one(Activity, a.id).state for a in queued]
    assert states == ["pending"] * 3
