"""A caller who hangs up part-way abandons the transaction at its step; its code takes it up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activation.store.models import AuditEntry, Transaction
from ivr import create_app
from ivr.softphone import FlaskTransport, Softphone, SoftphoneError

from .conftest import log_on
from .test_activation import new_transaction


def _phone(services) -> Softphone:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True}, services=services)
    return Softphone(
        FlaskTransport(app), "/voice", pause_scale=0.05, status_callback="/voice/status"
    )


def _tx(services, code: str) -> Transaction:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        session.expunge(tx)
        return tx


def test_a_hang_up_mid_way_abandons_and_the_code_resumes_it(services, worker):
    phone = _phone(services)
    call = log_on(phone)
    code = new_transaction(call)
    call.press("13803186457#")
    call.press("1")  # the handset read back: right
    call.hang_up()
    tx = _tx(services, code)
    assert (tx.status, tx.step) == ("abandoned", "kind")
    with services.db.read() as session:
        detail = session.scalar(
            select(AuditEntry.detail).where(
                AuditEntry.entity_id == code, AuditEntry.new_status == "abandoned"
            )
        )
    assert detail == "caller hung up at kind"
    later = log_on(phone)
    heard = later.press(code)
    assert "Resuming" in heard and "individual" in later.last_prompt
    assert _tx(services, code).status == "incomplete"


def test_a_line_lost_during_the_credit_check_resumes_on_hold(services):
    app = create_app({"TESTING": True}, services=services)
    # No worker: the credit check waits in the queue; the caller's line drops while on hold.
    phone = Softphone(
        FlaskTransport(app),
        "/voice",
        pause_scale=0.01,
        max_redirects=2,
        status_callback="/voice/status",
    )
    call = log_on(phone)
    code = new_transaction(call)
    call.press("13803186457#")
    call.press("1")  # the handset read back: right
    call.press("1")
    call.press("123456789#")
    with pytest.raises(SoftphoneError):
        call.press("1")  # SSN confirmed: the credit check is asked, the call holds, and drops
    assert call.status == "failed"
    assert _tx(services, code).status == "abandoned"
    # Taken up again by its code: back to waiting for the bureau, which has not answered yet.
    later = log_on(Softphone(FlaskTransport(app), "/voice", pause_scale=0.01, max_redirects=2))
    with pytest.raises(SoftphoneError):
        later.press(code)  # holds for the credit check (still no worker)
    assert "Resuming" in " ".join(later.heard) and "Checking the customer's credit" in " ".join(
        later.heard
    )
    assert _tx(services, code).status == "credit_check"


def test_an_ended_call_abandons_nothing(services, worker, switches):
    phone = _phone(services)
    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")  # to a CSR: CAS itself ended the call
    call.hang_up()
    assert _tx(services, code).status == "escalated"
