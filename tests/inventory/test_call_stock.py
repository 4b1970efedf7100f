"""By phone: activation takes the handset from the agent's stock; an ESN not in that stock is
noted or sent to a CSR, as the agent's setting says, and the prompt says which."""

from __future__ import annotations

import time

from sqlalchemy import select

from activation.store.inventory import HandsetMovement, Reorder
from activation.store.models import AuditEntry, Escalation, Handset, Transaction
from tests.flow.conftest import app, log_on, phone, switches  # noqa: F401
from tests.flow.test_activation import new_transaction, through_credit


def _activate(call, esn: str) -> str:  # type: ignore[no-untyped-def]
    """Key a whole activation of Jane Q Public on 713555 with this ESN; return the code."""
    code = new_transaction(call)
    through_credit(call, esn=esn)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    assert "The new number is" in call.last_prompt
    call.press("2")
    return code


def test_activations_by_phone_consume_stock_and_a_shortfall_reorders(
    phone,  # noqa: F811
    services,
    worker,
    switches,  # noqa: F811
):
    for esn in ("13803186457", "13803186458"):
        code = _activate(log_on(phone), esn)
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.status == "active"
        handset = session.get(Handset, "13803186458")
        assert (handset.location, handset.status) == ("sold", "active")
        moved = session.scalars(
            select(HandsetMovement).where(HandsetMovement.transaction_id == tx.id)
        ).all()
        assert [(m.from_location, m.to_location, m.actor) for m in moved] == [
            ("at_agent", "sold", "worker")
        ]
        # 1001 held 4 MT100 against a minimum of 3: the second sale is the shortfall.
        reorder = session.scalar(select(Reorder))
        assert (reorder.product_code, reorder.quantity, reorder.stock_at_order) == ("MT100", 5, 2)
    # The worker sends it to the warehouse, which holds it under CAS's reference.
    deadline = time.monotonic() + 20
    while not services.warehouse.reorders() and time.monotonic() < deadline:
        time.sleep(0.1)
    taken = services.warehouse.reorders()
    assert [(r.reference, r.agent_code, r.product_code, r.quantity) for r in taken] == [
        (f"CAS-R{reorder.id}", "1001", "MT100", 5)
    ]


def test_an_esn_from_elsewhere_is_noted_and_the_call_goes_on(phone, services):  # noqa: F811
    call = log_on(phone)
    code = new_transaction(call)
    call.press("13803186611#")  # agent 1002's handset
    heard = call.press("1")  # the ESN read back: right
    assert "The handset 1 3 8, 0 3 1 8, 6 6 1 1 is not in your stock. It is noted" in heard
    assert "individual" in call.last_prompt
    with services.db.transaction() as session:
        noted = session.scalars(select(AuditEntry.detail).where(AuditEntry.entity_id == code)).all()
        assert "ESN 13803186611 not in the agent's stock" in noted


def test_an_agent_set_to_csr_is_sent_to_a_csr_saying_why(phone, services):  # noqa: F811
    call = log_on(phone, "1002", "1357")
    new_transaction(call)
    call.press("13803186457#")  # agent 1001's handset
    heard = call.press("1")  # the ESN read back: right
    assert "is not in your stock. A customer service representative will help you" in heard
    assert call.ended and call.transfer is not None
    with services.db.transaction() as session:
        escalation = session.scalar(select(Escalation))
        assert (escalation.reason, escalation.kind) == ("ESN not in the agent's stock", "handset")


def test_an_esn_in_the_agents_own_stock_is_taken_without_a_word(phone):  # noqa: F811
    call = log_on(phone, "1002", "1357")
    new_transaction(call)
    call.press("13803186612#")
    heard = call.press("1")  # the ESN read back: right
    assert "not in your stock" not in heard and "individual" in call.last_prompt


def _swap_to(phone, services, agent: str, pin: str, esn: str):  # type: ignore[no-untyped-def]  # noqa: F811
    """Key a handset change on a line of this agent's, up to the new ESN; return the call."""
    from tests.queue.conftest import active_transaction

    with services.db.transaction() as session:
        active_transaction(session, "45000001", "7135550451", esn="13800000001", agent=agent)
    call = log_on(phone, agent, pin)
    call.press("##")
    call.press("7135550451#")
    call.press("1")
    call.press("1")  # change the handset
    return call, call.press(esn + "#")


def test_a_swap_to_a_handset_from_elsewhere_is_noted(phone, services):  # noqa: F811
    call, heard = _swap_to(phone, services, "1001", "2468", "13803186611")
    assert "The handset 1 3 8 0 3 1 8 6 6 1 1 is not in your stock. It is noted" in heard
    assert "old handset" in call.last_prompt
    with services.db.read() as session:
        noted = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.entity_id == "45000001")
        ).all()
        assert "new ESN 13803186611 not in the agent's stock" in noted


def test_a_swap_to_a_handset_from_elsewhere_goes_to_a_csr_when_the_agent_says_so(
    phone,  # noqa: F811
    services,
):
    call, heard = _swap_to(phone, services, "1002", "1357", "13803186457")
    assert "is not in your stock. A customer service representative will help you" in heard
    assert call.ended and call.transfer is not None
