"""/metrics answers only the bearer of CAS_METRICS_TOKEN, and its labels come from fixed sets."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from activation.lifecycle.escalations import KINDS, escalate
from activation.store.models import Agent, Transaction
from ivr import create_app

from ..console.test_metrics import samples


def test_metrics_need_the_bearer_token_when_one_is_set(services):
    services.settings = dataclasses.replace(services.settings, metrics_token="s3cret-token")
    client = create_app({"TESTING": True}, services=services).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    assert "cas_" not in refused.get_data(as_text=True)
    for wrong in ("Bearer s3cret-toke", "Basic s3cret-token", "s3cret-token", "Bearer "):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401
    reply = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert reply.status_code == 200 and "cas_queue_depth" in reply.get_data(as_text=True)


def test_metrics_are_open_without_a_token(app):
    assert app.test_client().get("/metrics").status_code == 200


def test_escalation_labels_are_kinds_whatever_the_reasons_say(app, services):
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        for n in range(30):
            tx = Transaction(code=f"7000{n:04d}", agent_id=agent, status="incomplete")
            session.add(tx)
            session.flush()
            reason = f"switch denied: ESN 1380{n:07d} held by another"
            escalate(session, reason, "npa_confirm", tx=tx, kind="switch")
    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    labels = {dict(labels)["kind"] for name, labels in found if name == "cas_escalations_total"}
    assert labels == set(KINDS)
    assert found[("cas_escalations_total", (("kind", "switch"),))] == 30
    assert found[("cas_escalations_open", (("kind", "switch"),))] == 30
