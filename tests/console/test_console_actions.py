"""A CSR finishes escalated calls through the same core as the call; every change is audited."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from activation.parties.switching import definition
from activation.queue import activities
from activation.service_layer.staff import ConsoleUser
from activation.store.models import (
    Activity,
    Agent,
    AuditEntry,
    Escalation,
    RatePlan,
    Switch,
    TelephoneNumber,
    Transaction,
)
from ivr.softphone import FlaskTransport, Softphone

from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction, switch_holds, through_credit
from .conftest import csrf_of, log_in


class Console:
    """A logged-in console user driving the pages with the test client."""

    def __init__(self, app: Any, name: str, password: str) -> None:
        self.client = app.test_client()
        log_in(self.client, name, password)
        self.token = csrf_of(self.client.get("/console/escalations").get_data(as_text=True))

    def get(self, url: str) -> str:
        reply = self.client.get(url)
        assert reply.status_code == 200, (url, reply.status_code)
        return reply.get_data(as_text=True)

    def post(self, url: str, **form: str) -> str:
        """Post a form and return the page it leads to (with its flash message)."""
        reply = self.client.post(url, data={**form, "csrf_token": self.token})
        assert reply.status_code in (200, 302), (url, reply.status_code)
        if reply.status_code == 302:
            return self.get(reply.headers["Location"])
        return reply.get_data(as_text=True)


def _wait_for(predicate: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _tx(services: Any, code: str) -> Transaction:
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        session.expunge(tx)
        return tx


def _phone(app: Any) -> Softphone:
    return Softphone(FlaskTransport(app), "/voice", pause_scale=0.05)


def test_declined_credit_is_approved_with_a_deposit_and_activated(
    app, services, users, worker, switches
):
    call = log_on(_phone(app))
    code = new_transaction(call)
    through_credit(call, ssn="345678901", esn="13803186459")
    call.press("1")
    call.press("1")  # declined: to a CSR
    assert call.transfer is not None
    csr = Console(app, "csr", users["csr"])
    page = csr.get("/console/escalations")
    assert code in page and "credit declined" in page
    with services.db.transaction() as session:
        esc_id = session.scalar(select(Escalation.id))

    page = csr.get(f"/console/escalations/{esc_id}")
    assert "***-**-8901" in page and "345678901" not in page
    page = csr.post(f"/console/transactions/{code}/send", npa_nxx="281555")
    assert "first settle: approved credit, rate plan" in page
    page = csr.post(f"/console/transactions/{code}/deposit", dollars="500", method="cash")
    assert "Credit approved with a deposit of $500.00" in page
    page = csr.post(f"/console/transactions/{code}/correct", field="rate_plan_code", value="99")
    assert "no such active rate plan" in page
    csr.post(f"/console/transactions/{code}/correct", field="rate_plan_code", value="20")
    page = csr.post(f"/console/transactions/{code}/send", npa_nxx="281555")
    assert "reserved and queued" in page

    _wait_for(lambda: _tx(services, code).status == "active")
    tx = _tx(services, code)
    assert (tx.deposit_cents, tx.deposit_method, tx.rate_plan_code) == (50000, "cash", "20")
    assert tx.mid.startswith("281555") and tx.customer_id is not None
    held = switch_holds(services, "HOU2", tx.mid)
    assert held is not None and held.esn == "13803186459" and held.features == "20"
    with services.db.transaction() as session:
        assert session.get(Escalation, esc_id).state == "resolved"
        trail = session.scalars(select(AuditEntry.actor).where(AuditEntry.entity_id == code)).all()
        assert "csr" in trail and "worker" in trail
    assert "No open escalations" in csr.get("/console/escalations")
    history = csr.get(f"/console/transactions/{code}")
    assert "deposit approved: $500.00 cash" in history and "number onto the switch" in history


def test_values_are_corrected_by_the_call_rules_and_an_ssn_runs_the_bureau_again(
    app, services, users
):
    call = log_on(_phone(app))
    code = new_transaction(call)
    call.press("0")
    csr = Console(app, "csr", users["csr"])
    page = csr.post(f"/console/transactions/{code}/correct", field="esn", value="99999999999")
    assert "manufacturer code above 255" in page
    csr.post(f"/console/transactions/{code}/correct", field="esn", value="13803186458")
    csr.post(f"/console/transactions/{code}/correct", field="customer_kind", value="individual")
    page = csr.post(f"/console/transactions/{code}/correct", field="ssn", value="666000000")
    assert "area number never issued" in page
    csr.post(f"/console/transactions/{code}/correct", field="ssn", value="234567890")
    tx = _tx(services, code)
    assert (tx.esn, tx.ssn_last4, tx.status) == ("13803186458", "7890", "credit_check")
    with services.db.transaction() as session:
        check = session.scalar(select(Activity).where(Activity.type == "credit_check"))
        assert check.transaction_id == tx.id and check.state == "pending"
        details = " ".join(session.scalars(select(AuditEntry.detail)).all())
    assert "234567890" not in details and "SSN corrected" in details
    page = csr.get(f"/console/transactions/{code}")
    assert "***-**-7890" in page and "234567890" not in page
    page = csr.post(f"/console/transactions/{code}/close", reason="duplicate")
    assert "is waiting (credit_check)" in page  # not while the bureau is asked


def test_a_transaction_is_closed_with_its_reason(app, services, users):
    call = log_on(_phone(app))
    code = new_transaction(call)
    call.press("0")
    csr = Console(app, "csr", users["csr"])
    page = csr.post(f"/console/transactions/{code}/close", reason="customer walked out")
    assert f"Transaction {code} closed." in page
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.state)) == "closed"
        entry = session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_id == code, AuditEntry.new_status == "closed"
            )
        )
        assert entry.actor == "csr" and entry.detail == "closed: customer walked out"
    page = csr.post(f"/console/transactions/{code}/correct", field="esn", value="13803186458")
    assert f"transaction {code} is closed" in page


def test_a_supervisor_retries_and_removes_with_a_reason(app, services, users):
    call = log_on(_phone(app))
    code = new_transaction(call)
    call.press("0")
    tx = _tx(services, code)
    with services.db.transaction() as session:
        session.get(TelephoneNumber, "7135550001").status = "reserved"
        session.get(TelephoneNumber, "7135550001").transaction_id = tx.id
        session.get(Transaction, tx.id).mid = "7135550001"
        session.get(Transaction, tx.id).status = "delayed"
        insert = activities.enqueue(
            session,
            "switch_insert",
            {"switch_id": 1, "subscriber": {"mid": "7135550001", "esn": "1", "features": "10"}},
            target="HOU1",
            transaction_id=tx.id,
        )
        insert.state, insert.attempts = "failed", insert.max_attempts
        billing = activities.enqueue(session, "billing_record", {}, target="billing")
        billing.state, billing.attempts = "failed", billing.max_attempts
        ids = insert.id, billing.id
    boss = Console(app, "supervisor", users["supervisor"])
    page = boss.get("/console/queue?state=failed")
    assert page.count(">Retry<") == 2
    page = boss.post(f"/console/queue/{ids[1]}/retry", reason="billing is back")
    assert "will be retried now" in page
    page = boss.post(f"/console/queue/{ids[0]}/remove", reason="")
    assert "give the reason" in page
    boss.post(f"/console/queue/{ids[0]}/remove", reason="wrong switch")
    with services.db.transaction() as session:
        retried = session.get(Activity, ids[1])
        assert retried.state == "pending" and retried.max_attempts == retried.attempts + 1
        assert session.get(Activity, ids[0]).state == "removed"
        # The removed insertion was tried: the number stays out of stock until its switch
        # has let it go.
        assert session.get(TelephoneNumber, "7135550001").status == "blocked"
        delete = session.scalar(select(Activity).where(Activity.type == "switch_delete"))
        assert delete.payload == {"switch_id": 1, "mid": "7135550001"}
        tx = session.get(Transaction, tx.id)
        assert tx.mid is None and tx.status == "escalated"
        reasons = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.entity == "activity").order_by(AuditEntry.id)
        ).all()
        assert reasons == ["retry: billing is back", "removed: wrong switch"]
        assert session.scalar(
            select(Escalation.id).where(Escalation.reason == "switch_insert removed from queue")
        )


def test_billing_records_by_hand(app, services, users):
    boss = Console(app, "supervisor", users["supervisor"])
    page = boss.post(
        "/console/billing/insert",
        transaction_code="12345678",
        mid="7135550042",
        esn="13803186457",
        rate_plan="10",
        customer_name="Jane Q Public",
        customer_address="12 Main Street",
        deposit_cents="0",
        deposit_method="",
    )
    assert "Billing record for 12345678 inserted." in page and "7135550042" in page
    assert services.billing.inquire("12345678").mid == "7135550042"
    page = boss.post("/console/billing/insert", transaction_code="12", mid="7135550042")
    assert "eight digits" in page
    services.billing.set_down(True)
    page = boss.post("/console/billing/delete", transaction_code="12345678", reason="test")
    assert "Billing system unavailable" in page
    services.billing.set_down(False)
    page = boss.post("/console/billing/delete", transaction_code="12345678", reason="duplicate")
    assert "deleted" in page and "holds no record for 12345678" in page
    assert services.billing.inquire("12345678") is None
    with services.db.transaction() as session:
        trail = session.execute(
            select(AuditEntry.new_status, AuditEntry.actor, AuditEntry.detail).where(
                AuditEntry.entity == "billing"
            )
        ).all()
    assert [(s, a) for s, a, _ in trail] == [("inserted", "supervisor"), ("deleted", "supervisor")]
    assert trail[1][2] == "duplicate"


def test_admin_changes_reference_data_and_the_call_obeys(app, services, users):
    admin = Console(app, "admin", users["admin"])
    admin.post("/console/admin/agents/1003/unlock")
    page = admin.post("/console/admin/agents/1003/pin", pin="4321")
    assert "The new PIN is" in page and "4321" in page
    page = admin.post("/console/admin/agents/1003/restrictions", rate_plans="20", npa_nxx="")
    assert "Restrictions of agent 1003 saved." in page
    call = log_on(_phone(app), agent="1003", pin="4321")
    new_transaction(call)
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == "1003"))
        assert not agent.locked and agent.restrictions == {"rate_plans": ["20"]}

    page = admin.post(
        "/console/admin/rate-plans", code="40", name="Family", monthly_dollars="45", features="F"
    )
    assert "Rate plan 40 saved." in page
    with services.db.transaction() as session:
        plan = session.get(RatePlan, "40")
        assert (plan.name, plan.monthly_cents, plan.active) == ("Family", 4500, False)
    page = admin.post(
        "/console/admin/deposits",
        min_score="650",
        max_score="720",
        decision="approve",
        deposit_dollars="100",
    )
    assert "overlaps" in page
    page = admin.post("/console/admin/switches/1/blocks", npa_nxx="713556", last_suffix="20")
    assert "NPA-NXX 713556 added to HOU1." in page
    with services.db.transaction() as session:
        free = session.scalars(
            select(TelephoneNumber.mid).where(TelephoneNumber.npa_nxx == "713556")
        ).all()
        assert len(free) == 20
        kinds = session.scalars(select(AuditEntry.entity).where(AuditEntry.actor == "admin")).all()
    assert set(kinds) >= {"agent", "rate_plan", "npa_nxx"}
    page = admin.post("/console/admin/blocks/713556/remove")
    assert "NPA-NXX 713556 removed." in page


def test_admin_replaces_a_switch_log_on_secret_that_is_never_shown(app, services, users):
    admin = Console(app, "admin", users["admin"])
    page = admin.post(
        "/console/admin/switches/1/logon", logon_name="ops", logon_secret="new-hou1-pass"
    )
    assert "Log-on of switch HOU1 saved." in page
    assert "new-hou1-pass" not in page and "hou1-secret" not in page
    page = admin.post("/console/admin/switches/1/logon", logon_name="ops", logon_secret="a;b")
    assert "the secret: letters, digits" in page
    page = admin.post("/console/admin/switches/1/logon", logon_name="ops", logon_secret="")
    assert "nothing to change" in page
    with services.db.transaction() as session:
        switch = session.get(Switch, 1)
        defn = definition(switch, services.vault)
        assert (defn.logon_name, defn.logon_secret) == ("ops", "new-hou1-pass")
        assert "new-hou1-pass" not in switch.logon_secret_encrypted
        trail = session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.entity == "switch", AuditEntry.actor == "admin"
            )
        ).all()
    assert trail == ["log-on: name cas -> ops, secret replaced"]

    admin.post("/console/admin/switches/1/logon", logon_name="ops", clear_secret="1")
    with services.db.transaction() as session:
        assert definition(session.get(Switch, 1), services.vault).logon_secret == ""
    supervisor = Console(app, "supervisor", users["supervisor"])
    refused = supervisor.client.post(
        "/console/admin/switches/1/logon",
        data={"logon_name": "x", "logon_secret": "y", "csrf_token": supervisor.token},
    )
    assert refused.status_code == 403


def test_admin_manages_console_users_and_never_locks_the_console_out(app, services, users):
    admin = Console(app, "admin", users["admin"])
    page = admin.post("/console/admin/users", name="dana", role="csr")
    password = page.split('The password of dana is <b class="pin">')[1].split("<")[0]
    dana = Console(app, "dana", password)  # logs in with what was shown once
    assert "Escalations" in dana.get("/console/escalations")
    assert "dana" in admin.get("/console/admin/users")
    assert "there is a user dana already" in admin.post(
        "/console/admin/users", name="dana", role="admin"
    ).replace("There", "there")

    page = admin.post("/console/admin/users/dana", role="supervisor", active="1")
    assert "dana: role csr -&gt; supervisor." in page
    # A new role ends the sessions of the old one; the next log-in has the new role.
    assert dana.client.get("/console/billing").status_code == 302
    dana = Console(app, "dana", password)
    assert dana.client.get("/console/billing").status_code == 200
    admin.post("/console/admin/users/dana", role="supervisor")  # the log-in taken away
    assert dana.client.get("/console/escalations").status_code in (302, 401, 403)

    page = admin.post("/console/admin/users/dana/password")
    again = page.split('The password of dana is <b class="pin">')[1].split("<")[0]
    assert again != password
    Console(app, "dana", again)  # a new password gives the log-in back

    # The only admin can neither step down nor lose the log-in.
    page = admin.post("/console/admin/users/admin", role="supervisor", active="1")
    assert "Admin is the last active admin." in page
    page = admin.post("/console/admin/users/admin", role="admin")
    assert "Admin is the last active admin." in page
    with services.db.transaction() as session:
        held = session.scalar(select(ConsoleUser).where(ConsoleUser.name == "admin"))
        assert (held.role, held.active) == ("admin", True)
        trail = session.scalars(
            select(AuditEntry.detail)
            .where(
                AuditEntry.entity == "console_user",
                AuditEntry.entity_id == "dana",
                AuditEntry.actor == "admin",
            )
            .order_by(AuditEntry.id)
        ).all()
    assert trail == [
        "password set",
        "role csr -> supervisor",
        "log-in taken away",
        "password set",
    ]
    assert password not in " ".join(trail) and again not in " ".join(trail)


def test_admin_issues_and_revokes_partner_api_keys(app, services, users):
    admin = Console(app, "admin", users["admin"])
    page = admin.post("/console/admin/api-keys", partner="north-shop")
    key = page.split('The API key of north-shop is <b class="pin">')[1].split("<")[0]
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {key}"}
    assert api.get("/api/transactions/00000000", headers=bearer).status_code == 404
    prefix = key.split("_")[1]
    page = admin.post(f"/console/admin/api-keys/{prefix}/revoke")
    assert f"API key {prefix} of north-shop revoked." in page
    assert key not in page  # shown once, never listed
    assert api.get("/api/transactions/00000000", headers=bearer).status_code == 401
    page = admin.post(f"/console/admin/api-keys/{prefix}/revoke")
    assert "revoked already" in page
    with services.db.transaction() as session:
        trail = session.execute(
            select(AuditEntry.new_status, AuditEntry.actor)
            .where(AuditEntry.entity == "api_key", AuditEntry.entity_id == prefix)
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(row) for row in trail] == [("active", "admin"), ("revoked", "admin")]


def test_admin_sets_an_agents_language_and_the_agents_calls_speak_it(app, services, users):
    admin = Console(app, "admin", users["admin"])
    page = admin.post("/console/admin/agents/1002/language", language="xx")
    assert "the language is one of en, es" in page
    page = admin.post("/console/admin/agents/1002/language", language="es")
    assert "Agent 1002 now hears Spanish." in page
    assert '<option value="es" selected>' in page
    call = log_on(_phone(app), agent="1002", pin="1357")
    assert "Hola, Lee Vendor." in " ".join(call.heard)
    assert "Para empezar una transacción nueva" in call.last_prompt
    with services.db.read() as session:
        assert session.scalar(select(Agent.language).where(Agent.agent_code == "1002")) == "es"
