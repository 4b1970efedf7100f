"""Agent log-on: the right pair, a wrong pair twice, a locked agent, and what is recorded."""

from __future__ import annotations

from sqlalchemy import select

from activation.store.models import Agent, AuditEntry, Escalation

from .conftest import AGENT_PHONE, CAS_NUMBER, log_on


def test_right_pair_reaches_the_menu_and_records_the_logon(phone, services):
    call = log_on(phone)
    assert "Hello Pat Seller" in " ".join(call.heard)
    assert "new transaction, press pound" in call.last_prompt
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1001"))
        assert agent.valid_logons == 1 and agent.failed_attempts == 0
        assert agent.last_logon_at is not None


def test_wrong_pair_twice_goes_to_a_csr(phone, services):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    heard = call.press("1111#")
    assert "do not match" in heard and "agent I D" in call.last_prompt
    call.press("1001#")
    heard = call.press("2222#")
    assert "customer service representative" in heard
    assert call.ended and call.transfer is not None
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1001"))
        assert agent.failed_attempts == 2 and agent.invalid_logons == 2
        escalation = session.scalar(select(Escalation))
        assert escalation.reason == "log-on failed twice" and escalation.call_sid == call.sid


def test_locked_agent_goes_to_a_csr_even_with_the_right_pin(phone, services):
    call = log_on(phone, "1003", "9999")
    assert "locked" in " ".join(call.heard) and call.transfer is not None
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.reason)) == "agent locked"


def test_repeated_failures_lock_the_agent(phone, services):
    for _ in range(3):
        call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
        for _ in range(2):
            call.press("1002#")
            call.press("0000#")
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1002"))
        assert agent.locked and agent.failed_attempts == 5  # the sixth try met the lock
        assert session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity == "agent", AuditEntry.new_status == "locked"
            )
        )
    call = log_on(phone, "1002", "1357")
    assert "locked" in " ".join(call.heard)


def test_unknown_agent_hears_the_same_as_a_wrong_pin(phone):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("4242#")
    assert "do not match" in call.press("2468#")
