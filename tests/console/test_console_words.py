"""What a CSR reads: counts that match the database, agents and steps in words, MIDs dashed."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from activation.comparison.repair import flag
from activation.lifecycle import states
from activation.store.models import Escalation, Transaction

from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction, through_credit
from .test_console_actions import Console, _phone
from .test_metrics import samples


def _activate(call, esn: str) -> str:  # type: ignore[no-untyped-def]
    code = new_transaction(call)
    through_credit(call, esn=esn)
    call.press("1")
    call.press("10#")
    call.press("1")
    call.press("713555#")
    call.press("1")
    assert "The new number is" in call.last_prompt
    call.press("2")
    return code


def test_activations_are_counted_once_per_transaction_as_the_database_holds_them(
    app, services, users, worker, switches
):
    phone = _phone(app)
    codes = [_activate(log_on(phone), esn) for esn in ("13803186457", "13803186458")]
    with services.db.transaction() as session:
        for code in codes:  # what the call-back and the worker write on an active transaction
            tx = session.scalar(select(Transaction).where(Transaction.code == code))
            states.note(session, tx, "worker", "call-back queued")
            states.note(session, tx, "agent", "MID accepted")
    with services.db.read() as session:
        active = session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.status == "active")
        )
    assert active == 2
    page = Console(app, "csr", users["csr"]).get("/console/dashboard")
    assert re.search(r"<b>2</b> activations in 24 h", page), page
    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert found[("cas_activations_total", (("switch", "HOU1"),))] == active


def test_escalations_name_the_agent_the_step_and_the_kind_in_words(app, services, users):
    phone = _phone(app)
    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")  # at the ESN
    stranger = phone.dial(from_="+15005550006", to="+15005550000")
    stranger.press("0")  # before any log-on
    with services.db.transaction() as session:
        flag(session, "HOU1: 7135550099 unknown to CAS", None)
    console = Console(app, "csr", users["csr"])
    rows = console.get("/console/escalations")
    assert "1001 Pat Seller" in rows and ">ESN<" in rows and "esn" not in rows.split("<tbody")[1]
    assert "nightly comparison" in rows
    with services.db.read() as session:
        at_esn = session.scalar(select(Escalation.id).where(Escalation.transaction_id.is_not(None)))
        found = session.scalar(select(Escalation.id).where(Escalation.kind == "comparison"))
    page = console.get(f"/console/escalations/{at_esn}")
    assert "Stopped at <b>ESN</b>" in page and code in page
    assert "Send to switch" not in page  # nothing to send before credit is approved
    assert "once these are settled: ESN, approved credit, rate plan" in page
    assert "Approve with deposit" not in page  # the bureau has named no one yet
    with services.db.read() as session:
        log_on_id = session.scalar(
            select(Escalation.id).where(
                Escalation.agent_id.is_(None), Escalation.kind != "comparison"
            )
        )
    assert "had not logged on" in console.get(f"/console/escalations/{log_on_id}")
    page = console.get(f"/console/escalations/{found}")
    assert "Found by the <b>nightly comparison</b>" in page and "had not logged on" not in page
    dashboard = console.get("/console/dashboard")
    assert "Escalations by kind" in dashboard and "agent asked for a CSR" in dashboard
    assert "7135550099" not in dashboard  # a reason naming a number is no bar of its own


def test_mids_show_dashed_and_queue_work_in_words(app, services, users, worker, switches):
    code = _activate(log_on(_phone(app)), "13803186457")
    with services.db.read() as session:
        mid = session.scalar(select(Transaction.mid).where(Transaction.code == code))
    console = Console(app, "csr", users["csr"])
    dashed = f"{mid[:3]}-{mid[3:6]}-{mid[6:]}"
    assert dashed in console.get("/console/lookup?by=agent&q=1001")
    page = console.get(f"/console/transactions/{code}")
    assert dashed in page and "number onto the switch" in page and "switch_insert<" not in page


def test_the_console_has_an_icon(app, users):
    client = app.test_client()
    reply = client.get("/favicon.ico")
    assert reply.status_code == 301 and reply.headers["Location"].endswith("/favicon.svg")
    icon = client.get(reply.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
    assert 'rel="icon"' in Console(app, "csr", users["csr"]).get("/console/dashboard")
