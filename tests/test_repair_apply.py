"""A re-insertion asked by the comparison never takes the number from its customer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activation.jobs.switch import SwitchInsert
from activation.store.models import (
    Activity,
    Agent,
    Escalation,
    Switch,
    TelephoneNumber,
    Transaction,
    utcnow,
)

MID = "7135550042"


def _active_transaction(services) -> tuple[Transaction, Activity]:  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1001"))
        switch = session.scalar(select(Switch).where(Switch.name == "HOU1"))
        tx = Transaction(
            code="55550042",
            agent_id=agent.id,
            status="active",
            step="mid",
            esn="13803186457",
            rate_plan_code="10",
            npa_nxx="713555",
            mid=MID,
            completed_at=utcnow(),
        )
        session.add(tx)
        session.flush()
        number = session.get(TelephoneNumber, MID)
        number.status, number.transaction_id = "active", tx.id
        activity = Activity(
            type="switch_insert",
            target="HOU1",
            transaction_id=tx.id,
            payload={
                "switch_id": switch.id,
                "repair_of_run": 7,
                "subscriber": {"mid": MID, "esn": tx.esn, "features": "10"},
            },
        )
        session.add(activity)
        session.flush()
        return tx, activity


@pytest.mark.parametrize(
    "result", [{"outcome": "taken"}, {"outcome": "denied", "code": "SNVS", "reason": "no"}]
)
def test_a_refused_repair_escalates_and_keeps_the_number(services, result):
    tx, activity = _active_transaction(services)
    with services.db.transaction() as session:
        SwitchInsert().apply(session, session.get(Activity, activity.id), result, services)
    with services.db.transaction() as session:
        after = session.get(Transaction, tx.id)
        assert (after.status, after.mid) == ("active", MID)
        number = session.get(TelephoneNumber, MID)
        assert (number.status, number.transaction_id) == ("active", tx.id)
        reason = session.scalar(select(Escalation.reason))
        assert reason.startswith("repair refused")
        assert session.scalar(select(Activity).where(Activity.type == "billing_record")) is None


def test_a_repaired_number_changes_nothing_but_the_switch(services):
    tx, activity = _active_transaction(services)
    with services.db.transaction() as session:
        SwitchInsert().apply(
            session, session.get(Activity, activity.id), {"outcome": "inserted"}, services
        )
    with services.db.transaction() as session:
        after = session.get(Transaction, tx.id)
        assert (after.status, after.mid, after.completed_at) == ("active", MID, tx.completed_at)
        assert session.scalar(select(Activity).where(Activity.type != "switch_insert")) is None
        assert session.scalar(select(Escalation)) is None
