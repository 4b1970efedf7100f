"""E911 work on the activity queue: registered once a MID is active, withdrawn, refused, removed."""

from __future__ import annotations

from sqlalchemy import select

from activation.followup import callbacks
from activation.jobs.worker import Worker
from activation.lifecycle import states
from activation.lifecycle.assignment import queue_e911, queue_e911_removal
from activation.lifecycle.states import Move
from activation.parties.ports import E911Registration
from activation.store.models import Activity, AuditEntry, Escalation, Transaction
from tests.queue.conftest import active_transaction

CODE, MID = "63000001", "8325556301"
ADDRESS = "12 Main Street, Houston, Texas 77002"


def _run(services) -> list[Activity]:  # type: ignore[no-untyped-def]
    Worker(services, "e911-test").drain()
    with services.db.read() as session:
        return list(session.scalars(select(Activity).order_by(Activity.id)))


def test_an_active_mid_s_service_address_is_registered(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        queue_e911(session, active_transaction(session, CODE, MID))
    [done] = _run(services)
    assert (done.type, done.target, done.state) == ("e911_register", "e911", "done")
    assert services.e911.lookup(MID) == E911Registration(MID, CODE, "Jane Q Public", ADDRESS)


def test_a_registration_for_a_mid_its_transaction_no_longer_holds_is_withdrawn(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, CODE, MID)
        queue_e911(session, tx)
        callbacks.deny(session, tx, "", "agent")  # denied on the call-back before it was sent
    done = {a.type: a for a in _run(services)}
    assert done["e911_register"].result["outcome"] == "withdrawn"
    assert done["e911_remove"].result == {"outcome": "none held"}
    assert services.e911.lookup(MID) is None
    with services.db.read() as session:
        details = session.scalars(select(AuditEntry.detail)).all()
    assert any(d.startswith("E911 registration withdrawn: MID 8325556301") for d in details)


def test_a_denied_mid_s_registration_is_removed(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        queue_e911(session, active_transaction(session, CODE, MID))
    _run(services)
    assert services.e911.lookup(MID) is not None
    with services.db.transaction() as session:
        tx = states.lock(session, session.scalar(select(Transaction.id)) or 0)
        callbacks.deny(session, tx, "", "agent")
    removal = [a for a in _run(services) if a.type == "e911_remove"]
    assert [a.result for a in removal] == [{"outcome": "removed"}]
    assert services.e911.lookup(MID) is None


def test_an_address_e911_cannot_route_to_goes_to_a_csr_and_is_not_retried(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, CODE, MID)
        tx.bureau_address = "General Delivery"
        queue_e911(session, tx)
    [done] = _run(services)
    assert (done.state, done.attempts, done.result["outcome"]) == ("done", 1, "refused")
    assert services.e911.lookup(MID) is None
    with services.db.read() as session:
        escalation = session.scalars(select(Escalation)).one()
        tx = session.scalars(select(Transaction)).one()
    assert escalation.reason == f"E911 refused the address of MID {MID}"
    assert tx.status == "active"  # the line works; the CSR fixes the address


def test_a_removal_never_takes_the_next_subscriber_s_registration(services):  # type: ignore[no-untyped-def]
    services.e911.register(E911Registration(MID, "63000002", "Next Owner", ADDRESS), "k")
    with services.db.transaction() as session:
        tx = active_transaction(session, CODE, MID)
        states.move(session, tx, Move.DENY, "agent", "denied")
        queue_e911_removal(session, tx, MID)
    [done] = _run(services)
    assert done.result == {"outcome": "none held"}
    assert services.e911.lookup(MID).transaction_code == "63000002"


def test_a_removal_waits_while_the_registration_is_being_sent(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, CODE, MID)
        queue_e911(session, tx)
        queue_e911_removal(session, tx, MID)
        register = session.scalars(select(Activity).where(Activity.type == "e911_register")).one()
        register.state = "running"  # another worker is sending it now
    Worker(services, "e911-test").run_once()
    with services.db.read() as session:
        removal = session.scalars(select(Activity).where(Activity.type == "e911_remove")).one()
    assert removal.state == "pending" and "being sent" in (removal.last_error or "")
