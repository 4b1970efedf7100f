"""An idle worker on PostgreSQL is woken by a queued activity's notice, not by its next poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from activation.jobs.registry import JOBS
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


@contextmanager
def _worker_running(services: Services) -> Iterator[None]:
    """A worker polling every minute: anything done sooner was done on a notice or a peek."""
    stop = threading.Event()
    runner = threading.Thread(target=Worker(services).run, args=(stop, 60.0))
    runner.start()
    try:
        time.sleep(1.0)  # it found nothing and waits
        yield
    finally:
        stop.set()
        runner.join(timeout=5)


def _wait_done(services: Services, *ids: int) -> float:
    """Seconds until every activity is done (at most 10)."""
    started = time.monotonic()
    while time.monotonic() - started < 10:
        with services.db.read() as session:
            if all(session.get_one(Activity, i).state == "done" for i in ids):
                return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"activities {ids} not done in 10 s")


@needs_postgres
@pytest.mark.postgres
def test_a_worker_done_with_the_only_activity_waits_without_asking_again(
    pg_services: Services,
) -> None:
    with _worker_running(pg_services):
        claims = statements_sent(pg_services.db.engine, "WITH claimed")
        with pg_services.db.transaction() as session:
            activity_id = activities.enqueue(session, "billing_record", RECORD).id
        _wait_done(pg_services, activity_id)
        time.sleep(0.5)
    assert len(claims) == 1  # its own claim; none after it to find the queue empty


@needs_postgres
@pytest.mark.postgres
def test_activities_queued_together_are_run_one_after_the_other_on_one_notice(
    pg_services: Services,
) -> None:
    with _worker_running(pg_services):
        with pg_services.db.transaction() as session:  # one notice for the three
            ids = [activities.enqueue(session, "billing_record", RECORD).id for _ in range(3)]
        assert _wait_done(pg_services, *ids) < 5


@needs_postgres
@pytest.mark.postgres
def test_an_activity_queued_during_an_attempt_is_run_after_it_at_once(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued after the attempt's claim looked for more: its notice ends the worker's wait."""
    job = JOBS["billing_record"]
    perform = job.perform
    queued: list[int] = []

    def perform_and_queue(work, attempt, services):  # type: ignore[no-untyped-def]
        if not queued:
            with services.db.transaction() as session:
                queued.append(activities.enqueue(session, "billing_record", RECORD).id)
        return perform(work, attempt, services)

    monkeypatch.setattr(job, "perform", perform_and_queue)
    with _worker_running(pg_services):
        with pg_services.db.transaction() as session:
            first = activities.enqueue(session, "billing_record", RECORD).id
        assert _wait_done(pg_services, first) < 5 and queued
        assert _wait_done(pg_services, queued[0]) < 5
