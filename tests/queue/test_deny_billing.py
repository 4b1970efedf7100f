"""A MID denied on the call-back is never billed, whichever reaches billing first."""

from __future__ import annotations

from sqlalchemy import update

from activation.followup import callbacks
from activation.jobs.worker import Worker
from activation.lifecycle.assignment import queue_billing as enqueue_billing
from activation.store.models import Activity, Transaction, utcnow

from .conftest import active_transaction


def _deny(services, code: str, mid: str, *, billing_first: bool) -> None:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, code, mid)
        enqueue_billing(session, tx)
    if billing_first:
        Worker(services, "first").drain()
        assert [r.transaction_code for r in services.billing.records()] == [code]
    with services.db.transaction() as session:
        tx = session.get_one(Transaction, tx.id)
        callbacks.deny(session, tx, "CA" + "1" * 32, "agent 1001")


def test_a_record_already_billed_is_withdrawn(services):
    _deny(services, "55550001", "7135550001", billing_first=True)
    Worker(services, "after").drain()
    assert services.billing.records() == []


def test_a_record_still_queued_never_reaches_billing(services):
    services.billing.set_down(True)  # the record waits in the queue, billing down
    _deny(services, "55550002", "7135550002", billing_first=False)
    services.billing.set_down(False)
    with services.db.transaction() as session:  # no need to wait out the back-off
        session.execute(update(Activity).values(next_try_at=utcnow()))
    Worker(services, "after").drain()
    assert services.billing.records() == []
