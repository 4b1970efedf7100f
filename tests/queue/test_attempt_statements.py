"""The worker's statements on PostgreSQL: a claim starts its attempt's log row, a settle ends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from activation.jobs.registry import JOBS
from activation.jobs.worker import Worker
from activation.queue import activities
from activation.services import Services
from activation.store.models import Activity, ActivityAttempt, utcnow
from tests.pg import needs_postgres, statements_sent

from .conftest import billing_record

pytestmark = [needs_postgres, pytest.mark.postgres]
LEASE = timedelta(seconds=60)
RECORD = billing_record()


def test_a_claim_starts_its_attempt_s_log_row_in_its_own_statement(
    pg_services: Services,
) -> None:
    now = utcnow()
    with pg_services.db.transaction() as session:
        queued = activities.enqueue(session, "billing_record", RECORD, target="billing", now=now)
    sent = statements_sent(pg_services.db.engine, "WITH", "UPDATE", "INSERT", "SELECT")
    claimed = activities.claim(pg_services.db, "w1", timedelta(seconds=60), now)
    assert claimed is not None and len(sent) == 1
    assert (claimed.id, claimed.state, claimed.attempts, claimed.leased_by) == (
        queued.id,
        "running",
        1,
        "w1",
    )
    assert claimed.payload == RECORD and claimed.lease_until == now + timedelta(seconds=60)
    with pg_services.db.read() as session:
        [row] = session.scalars(select(ActivityAttempt)).all()
    assert (row.activity_id, row.attempt, row.started_at, row.duration_ms) == (queued.id, 1, now, 0)
    assert (row.target, row.request, row.outcome, row.answer) == (
        "billing",
        "billing_record billing",
        "started",
        "",
    )


def test_a_settle_ends_its_attempt_s_log_row_in_its_own_statement(pg_services: Services) -> None:
    now = utcnow()
    with pg_services.db.transaction() as session:
        activities.enqueue(session, "billing_record", RECORD, target="billing", now=now)
    claimed = activities.claim(pg_services.db, "w1", LEASE, now)
    assert claimed is not None
    sent = statements_sent(pg_services.db.engine, "WITH", "UPDATE", "INSERT", "SELECT")
    later = now + timedelta(seconds=2)
    with pg_services.db.transaction() as session:
        assert activities.settle(session, claimed, {"outcome": "accepted"}, later, started=now)
    assert len(sent) == 1
    with pg_services.db.read() as session:
        stored = session.get_one(Activity, claimed.id)
        [row] = session.scalars(select(ActivityAttempt)).all()
    assert (stored.state, stored.result, stored.done_at) == ("done", {"outcome": "accepted"}, later)
    assert (row.outcome, row.answer, row.duration_ms) == ("ok", "{'outcome': 'accepted'}", 2000)


def test_a_settle_whose_lease_was_lost_ends_nothing(pg_services: Services) -> None:
    now = utcnow()
    with pg_services.db.transaction() as session:
        activities.enqueue(session, "billing_record", RECORD, target="billing", now=now)
    first = activities.claim(pg_services.db, "w1", LEASE, now)
    # w1's lease runs out; w2 takes the activity over.
    second = activities.claim(pg_services.db, "w2", LEASE, now + LEASE * 2)
    assert first is not None and second is not None and second.attempts == 2
    with pg_services.db.transaction() as session:
        assert not activities.settle(session, first, {"outcome": "late"}, now, started=now)
    with pg_services.db.read() as session:
        stored = session.get_one(Activity, first.id)
        rows = session.scalars(select(ActivityAttempt).order_by(ActivityAttempt.attempt)).all()
    assert (stored.state, stored.leased_by, stored.result) == ("running", "w2", None)
    assert [(r.attempt, r.outcome) for r in rows] == [(1, "lost"), (2, "started")]


def test_a_due_claim_leaves_no_transaction_open_while_its_job_prepares(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is one atomic statement and prepare only reads: neither opens a transaction
    (no BEGIN, no COMMIT), and the activity runs to its end all the same."""
    job = JOBS["billing_record"]
    prepare, seen = job.prepare, []

    def watched(session: Session, activity: Activity, services: Services) -> object:
        seen.append(session.connection().connection.dbapi_connection.info.transaction_status)
        return prepare(session, activity, services)

    monkeypatch.setattr(job, "prepare", watched)
    with pg_services.db.transaction() as session:
        queued = activities.enqueue(session, "billing_record", RECORD, target="billing")
    claims = statements_sent(pg_services.db.engine, "WITH claimed")
    assert Worker(pg_services, "w1").run_once()
    assert seen == [TransactionStatus.IDLE] and len(claims) == 1
    with pg_services.db.read() as session:
        assert session.get_one(Activity, queued.id).state == "done"


def test_a_prepare_the_database_refuses_fails_its_attempt_and_claims_nothing_else(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(session: Session, activity: Activity, services: Services) -> object:
        return session.execute(text("SELECT no_such_column FROM activities"))

    monkeypatch.setattr(JOBS["billing_record"], "prepare", refused)
    now = utcnow()
    with pg_services.db.transaction() as session:
        first = activities.enqueue(session, "billing_record", RECORD, target="billing", now=now)
        later = now + timedelta(seconds=1)
        second = activities.enqueue(session, "billing_record", RECORD, target="billing", now=later)
    assert Worker(pg_services, "w1", clock=lambda: later).run_once()
    with pg_services.db.read() as session:
        failed, waiting = session.get_one(Activity, first.id), session.get_one(Activity, second.id)
    assert (failed.state, failed.attempts) == ("pending", 1)
    assert "no_such_column" in (failed.last_error or "")
    assert (waiting.state, waiting.attempts) == ("pending", 0)  # not claimed in its place
