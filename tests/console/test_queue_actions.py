"""The queue page offers a supervisor only the retry or removal the use case would take now."""

from __future__ import annotations

import re
from datetime import timedelta

from activation.queue import activities
from activation.store.models import Activity, utcnow

from .test_console_actions import Console


def _row(page: str, activity_id: int) -> str:
    match = re.search(rf'<tr id="activity-{activity_id}">(.*?)</tr>', page, re.S)
    assert match, f"activity {activity_id} is not listed"
    return match.group(1)


def _queue(services):  # type: ignore[no-untyped-def]
    """One billing record in each state a supervisor may meet; return their ids by name."""
    ids = {}
    with services.db.transaction() as session:
        for name, state, wait in (
            ("failed", "failed", 0),
            ("backing_off", "pending", 600),
            ("due", "pending", -5),
            ("running", "running", 0),
        ):
            act = activities.enqueue(session, "billing_record", {}, target="billing")
            act.state, act.next_try_at = state, utcnow() + timedelta(seconds=wait)
            session.flush()
            ids[name] = act.id
    return ids


def test_each_activity_offers_only_what_would_work_now(app, services, users):
    ids = _queue(services)
    page = Console(app, "supervisor", users["supervisor"]).get("/console/queue")
    failed, backing_off = _row(page, ids["failed"]), _row(page, ids["backing_off"])
    due, running = _row(page, ids["due"]), _row(page, ids["running"])
    assert ">Retry<" in failed and ">Remove<" in failed
    assert ">Retry<" in backing_off and ">Remove<" in backing_off
    assert ">Retry<" not in due and ">Remove<" in due and "due now" in due
    assert "<form" not in running and "being tried" in running


def test_what_is_not_offered_is_refused_with_the_reason(app, services, users):
    ids = _queue(services)
    boss = Console(app, "supervisor", users["supervisor"])
    page = boss.post(f"/console/queue/{ids['due']}/retry", reason="hurry")
    assert f"activity {ids['due']} is due now" in page
    page = boss.post(f"/console/queue/{ids['running']}/remove", reason="stuck")
    assert f"activity {ids['running']} is running" in page
    page = boss.post(f"/console/queue/{ids['backing_off']}/retry", reason="billing is back")
    assert "will be retried now" in page
    with services.db.read() as session:
        states = {name: session.get_one(Activity, id_).state for name, id_ in ids.items()}
        retried = session.get_one(Activity, ids["backing_off"])
        assert retried.next_try_at <= utcnow()
    assert states == {
        "failed": "failed",
        "backing_off": "pending",
        "due": "pending",
        "running": "running",
    }
