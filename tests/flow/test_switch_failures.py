"""Number assignment when the switch refuses: a number is released or kept out, never lost."""

from __future__ import annotations

from sqlalchemy import select

from activation.parties.switching import definition
from activation.store.models import Escalation, Switch, TelephoneNumber, Transaction
from switch_adapters import open_session
from switch_adapters.port import Subscriber

from .conftest import log_on
from .test_activation import new_transaction, through_credit


def _to_assignment(call) -> None:  # type: ignore[no-untyped-def]
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")


def _insert_behind_cas(services, subscriber: Subscriber) -> None:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        switch = session.scalar(select(Switch).where(Switch.name == "HOU1"))
        defn = definition(switch, services.vault)
    line = open_session(defn, deadline=10)
    try:
        line.insert(subscriber)
    finally:
        line.close()


def test_a_number_the_switch_already_carries_is_blocked_and_the_next_one_given(
    phone, services, worker, switches
):
    _insert_behind_cas(services, Subscriber("7135550001", "13803186459", "20"))

    call = log_on(phone)
    code = new_transaction(call)
    _to_assignment(call)
    call.press("1")
    assert "The new number is 7 1 3, 5 5 5, 0 0 0 2" in call.last_prompt
    with services.db.transaction() as session:
        assert session.get(TelephoneNumber, "7135550001").status == "blocked"
        assert session.get(TelephoneNumber, "7135550002").status == "active"
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.mid == "7135550002"
    held = {s.mid: s.esn for s in switches["HOU1"].subscribers()}
    assert held == {"7135550001": "13803186459", "7135550002": "13803186457"}


def test_a_denied_insertion_frees_the_number_and_goes_to_a_csr(phone, services, worker, switches):
    # The switch already has this handset on another number, so it refuses the insertion.
    _insert_behind_cas(services, Subscriber("7135559999", "13803186457", "10"))
    call = log_on(phone)
    code = new_transaction(call)
    _to_assignment(call)
    heard = call.press("1")
    assert "could not take the new number" in heard and call.transfer is not None
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.status == "escalated" and tx.mid is None
        assert tx.escalation_reason.startswith("switch denied")
        assert session.get(TelephoneNumber, "7135550001").status == "free"
        assert session.scalar(select(Escalation.step)) == "assign_wait"
    assert [s.mid for s in switches["HOU1"].subscribers()] == ["7135559999"]
