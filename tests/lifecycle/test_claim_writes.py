"""A number's claim writes its transaction once, with the insertion it queues, at the commit."""

from __future__ import annotations

from sqlalchemy import select

from activation.lifecycle import assignment, numbers, states
from activation.store.models import Activity, Agent, TelephoneNumber, Transaction

from ..pg import statements_sent


def test_a_claim_writes_its_transaction_once_with_the_insertion_it_queues(services):
    written = statements_sent(services.db.engine, "UPDATE transactions", "INSERT INTO activities")
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        tx = states.begin(session, "70000020", agent_id, "ivr")
        tx.esn, tx.npa_nxx, tx.rate_plan_code = "13803186457", "713555", "10"
        session.flush()
        written.clear()
        switch = numbers.serving_switch(session, "713555")
        assert switch is not None
        mid = assignment.claim(session, tx, switch, "ivr")
        tx.step = "assign_wait"
        assert mid is not None and written == []  # nothing of the claim written yet
    assert [s.split()[0:3] for s in written] == [
        ["INSERT", "INTO", "activities"],
        ["UPDATE", "transactions", "SET"],
    ]
    with services.db.read() as session:
        stored = session.scalar(select(Transaction).where(Transaction.code == "70000020"))
        assert (stored.status, stored.step, stored.mid) == ("assigning", "assign_wait", mid)
        number = session.get_one(TelephoneNumber, mid)
        assert (number.status, number.transaction_id) == ("reserved", stored.id)
        insert = session.scalar(select(Activity).where(Activity.transaction_id == stored.id))
        assert (insert.type, insert.payload["subscriber"]["mid"]) == ("switch_insert", mid)
