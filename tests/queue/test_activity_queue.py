"""The activity queue's rules: leases, back-off, lost workers, a CSR's retry and removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.queue import activities
from activation.store.models import Activity, ActivityAttempt, AuditEntry, utcnow

from ..pg import engines, statements_sent
from .conftest import Clock, LedgerBilling, billing_record

LEASE = timedelta(seconds=60)


@pytest.fixture
def queued(services):  # type: ignore[no-untyped-def]
    """One billing record in the queue, due now."""
    with services.db.transaction() as session:
        return activities.enqueue(
            session, "billing_record", billing_record("70000001"), target="billing"
        )


def test_a_leased_activity_is_nobody_else_s_until_the_lease_runs_out(services, queued):  # type: ignore[no-untyped-def]
    now = utcnow()
    first = activities.claim(services.db, "first", LEASE, now)
    assert first is not None and (first.state, first.attempts) == ("running", 1)
    assert activities.claim(services.db, "second", LEASE, now + LEASE) is None
    taken = activities.claim(services.db, "second", LEASE, now + LEASE + timedelta(seconds=1))
    assert taken is not None and (taken.leased_by, taken.attempts) == ("second", 2)
    with services.db.transaction() as session:
        # The first worker comes back to life: its lease is gone, its word no longer counts.
        assert not activities.settle(session, first, {"outcome": "late"}, now)
        assert activities.settle(session, taken, {"outcome": "accepted"}, now)
        assert session.get(Activity, queued.id).result == {"outcome": "accepted"}


def test_a_worker_whose_lease_ran_out_does_not_apply_its_result(services, queued):  # type: ignore[no-untyped-def]
    clock = Clock()
    slow = Worker(services, "slow", clock=clock)
    original = services.billing.submit

    def submit_while_another_takes_over(record):  # type: ignore[no-untyped-def]
        original(record)
        services.billing.submit = original
        clock.advance(slow.lease.total_seconds() + 1)
        assert Worker(services, "fast", clock=clock).run_once()

    services.billing.submit = submit_while_another_takes_over
    assert slow.run_once()
    with services.db.transaction() as session:
        activity = session.get(Activity, queued.id)
        assert (activity.state, activity.leased_by, activity.attempts) == ("done", "fast", 2)
        logged = session.execute(
            select(ActivityAttempt.attempt, ActivityAttempt.outcome).order_by(ActivityAttempt.id)
        ).all()
        # The slow attempt was closed as lost when its lease was taken; only the attempt that
        # held the lease wrote its result.
        assert [tuple(row) for row in logged] == [(1, "lost"), (2, "ok")]


def test_back_off_follows_the_type_and_exhaustion_fails_the_activity(services, queued):  # type: ignore[no-untyped-def]
    clock = Clock()
    services.billing.set_down(True)
    worker = Worker(services, "w", clock=clock)
    waits = []
    with services.db.transaction() as session:
        session.get(Activity, queued.id).max_attempts = 7
    for _ in range(7):
        clock.advance(3600)
        assert worker.run_once()
        with services.db.transaction() as session:
            activity = session.get(Activity, queued.id)
            waits.append(round((activity.next_try_at - clock()).total_seconds()))
    assert waits == [5, 30, 60, 300, 900, 900, 900]
    assert activity.state == "failed"
    with services.db.transaction() as session:
        outcomes = session.scalars(select(ActivityAttempt.outcome)).all()
        assert outcomes == ["retry"] * 6 + ["failed"]


def test_a_csr_retries_a_failed_activity_or_removes_it(services, queued):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        activity = session.get(Activity, queued.id)
        activity.state, activity.attempts = "failed", activity.max_attempts
        assert activities.retry_failed(session, queued.id, "csr:kim")
        assert not activities.retry_failed(session, queued.id, "csr:kim")
    assert Worker(services, "w").run_once()
    with services.db.transaction() as session:
        assert session.get(Activity, queued.id).state == "done"
        other = activities.enqueue(session, "billing_record", billing_record("70000002"))
        assert activities.remove(session, other.id, "csr:kim")
        assert session.get(Activity, other.id).state == "removed"
        changes = session.scalars(select(AuditEntry.new_status).order_by(AuditEntry.id)).all()
        assert changes == ["pending", "removed"]
    assert not Worker(services, "w").run_once()


def test_the_due_sweep_gives_a_dead_worker_s_activity_back_and_logs_it(services, queued):  # type: ignore[no-untyped-def]
    now = utcnow()
    later = now + LEASE * 2
    assert activities.claim(services.db, "host:4242:1", LEASE, now) is not None
    with services.db.transaction() as session:
        assert activities.recover_expired(session, now) == []
        assert activities.recover_expired(session, later) == [queued.id]
    services.billing = LedgerBilling(services.settings.data_dir / "billing")
    assert Worker(services, "w", clock=lambda: later).run_once()
    assert services.billing.accepted == ["70000001"]
    with services.db.transaction() as session:
        lines = session.scalars(select(ActivityAttempt).order_by(ActivityAttempt.id)).all()
        assert [(a.attempt, a.outcome) for a in lines] == [(1, "lost"), (2, "ok")]
        assert "host:4242:1" in lines[0].answer


def test_an_attempt_is_logged_when_it_starts_and_closed_as_lost_when_its_worker_dies(services):
    now = utcnow()
    with services.db.transaction() as session:
        activities.enqueue(session, "billing_record", {}, target="billing", now=now)
    lease = timedelta(seconds=60)
    claimed = activities.claim(services.db, "doomed", lease, now)
    with services.db.read() as session:
        [row] = session.scalars(select(ActivityAttempt)).all()
        assert (row.attempt, row.outcome, row.request) == (1, "started", "billing_record billing")
    # The worker dies; the scheduler's sweep finds the lease run out.
    with services.db.transaction() as session:
        assert activities.recover_expired(session, now + lease * 2) == [claimed.id]
    with services.db.read() as session:
        [row] = session.scalars(select(ActivityAttempt)).all()
        assert row.outcome == "lost" and "lease of doomed ran out" in row.answer
        assert row.duration_ms == 120_000


@pytest.mark.parametrize("engine", engines())
def test_an_idle_worker_looks_for_lost_leases_every_tenth_of_a_lease(engine, request):  # type: ignore[no-untyped-def]
    services = request.getfixturevalue("pg_services" if engine == "postgres" else "services")
    clock = Clock()
    idle = Worker(services, "idle", clock=clock)
    looked = statements_sent(services.db.engine, "SELECT activities.id, activities.leased_by")
    assert not idle.run_once() and len(looked) == 1
    clock.advance(1)
    assert not idle.run_once() and len(looked) == 1  # a moment later it does not ask again
    # Another worker dies holding an activity; its lease runs out...
    with services.db.transaction() as session:
        activities.enqueue(session, "billing_record", billing_record("70000002"), target="billing")
    doomed = activities.claim(services.db, "doomed", LEASE, clock())
    assert doomed is not None
    clock.advance(LEASE.total_seconds() + 1)
    # ...and the idle worker, looking again, takes it over and runs it.
    assert idle.run_once() and len(looked) == 2
    with services.db.read() as session:
        activity = session.get_one(Activity, doomed.id)
        assert (activity.state, activity.leased_by, activity.attempts) == ("done", "idle", 2)
