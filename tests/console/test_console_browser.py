"""The console in headless Chromium: a real call's escalation appears, a CSR finishes it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from activation.comparison.run import run_comparison
from activation.parties.switching import definition
from activation.queue import activities
from activation.store.comparison import ComparisonFinding
from activation.store.models import Agent, AuditEntry, Switch, Transaction
from activation.store.orders import Order
from ivr.softphone import HttpTransport, Softphone
from switch_adapters import open_session
from switch_adapters.port import Subscriber

from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction, switch_holds, through_credit
from ..lifecycle.test_orders import drain
from .conftest import DESKTOP, PHONE
from .test_api import Partner


def open_page(chromium: Any, viewport: dict[str, int] = DESKTOP) -> Any:
    """A fresh browser context (its own cookies) and a page in it.

    Whatever the page's Content-Security-Policy blocks is reported on its console; the page
    keeps a list (`page.refused`) for the tests to find empty.
    """
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.refused = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.refused.append(message.text)
        ),
    )
    return page


def log_in(page: Any, live: Any, name: str, password: str) -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/dashboard")


def shoot(page: Any, directory: Path, name: str) -> None:
    """Screenshot the whole page and check it needs no sideways scrolling."""
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name}: the page is {overflow}px wide in a {width}px window"


def escalate_at_npa_nxx(live: Any) -> str:
    """Phone in, get through credit and the rate plan, then press 0; return the code."""
    call = log_on(Softphone(HttpTransport(live.url), "/voice", pause_scale=0.05))
    code = new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    assert "N P A" in call.last_prompt or "NPA" in call.last_prompt.replace("-", "")
    call.press("0")
    assert call.transfer is not None and call.ended
    return code


def test_a_real_calls_escalation_appears_at_once_and_a_csr_finishes_it(
    chromium, live, services, users, worker, switches, screenshots
):
    page = open_page(chromium)
    log_in(page, live, "csr", users["csr"])
    page.click("nav >> text=Escalations")
    assert "No open escalations." in page.inner_text("#escalation-rows")

    code = escalate_at_npa_nxx(live)
    # No reload: the page's own refresh brings the new row in.
    row = page.locator("#escalation-rows tr", has_text=code)
    row.wait_for(timeout=10_000)
    assert "NPA-NXX: agent asked for a CSR" in row.inner_text()
    assert "1001 Pat Seller" in row.inner_text()
    assert row.get_attribute("class") == "fresh"
    shoot(page, screenshots, "escalations-desktop")

    row.locator("a", has_text=code).click()
    page.wait_for_url("**/console/escalations/*")
    body = page.inner_text("main")
    assert "Stopped at NPA-NXX" in body and "***-**-6789" in body
    assert "Jane Q Public" in body and "13803186457" in body
    assert "123456789" not in page.content()
    shoot(page, screenshots, "escalation-desktop")

    page.select_option("select[name=npa_nxx]", "713555")
    page.click("button:has-text('Send to switch')")
    assert "reserved and queued for its switch" in page.inner_text(".flash.ok")

    deadline = time.monotonic() + 30
    while "active" not in page.inner_text("h1 .state"):
        assert time.monotonic() < deadline, "the switch insert did not complete"
        time.sleep(0.2)
        page.goto(f"{live.url}/console/transactions/{code}")
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        mid = tx.mid
    assert mid in page.inner_text("main")
    held = switch_holds(services, "HOU1", mid)
    assert held is not None and held.esn == "13803186457"
    shoot(page, screenshots, "transaction-desktop")
    page.goto(f"{live.url}/console/escalations")
    assert code not in page.inner_text("#escalation-rows")
    assert page.refused == []  # the script's refresh lives within the page's policy
    page.context.close()


def test_what_a_supervisor_may_is_hidden_from_a_csr_and_refused_by_the_server(
    chromium, live, services, users, screenshots
):
    with services.db.transaction() as session:
        failed = activities.enqueue(session, "billing_record", {}, target="billing")
        failed.state, failed.attempts, failed.last_error = "failed", 50, "billing is down"
        activity_id = failed.id

    csr = open_page(chromium)
    log_in(csr, live, "csr", users["csr"])
    assert csr.locator("nav a", has_text="Billing").count() == 0
    csr.goto(f"{live.url}/console/queue")
    assert csr.locator(f"#activity-{activity_id}").count() == 1
    assert csr.locator("button", has_text="Retry").count() == 0
    token = csr.get_attribute("input[name=csrf_token]", "value")
    refused = csr.request.post(
        f"{live.url}/console/queue/{activity_id}/retry",
        form={"csrf_token": token, "reason": "let me"},
        max_redirects=0,
    )
    assert refused.status == 403
    reply = csr.goto(f"{live.url}/console/billing")
    assert reply.status == 403 and "needs the supervisor role" in csr.inner_text("main")
    shoot(csr, screenshots, "refused-desktop")

    boss = open_page(chromium)
    log_in(boss, live, "supervisor", users["supervisor"])
    assert boss.locator("nav a", has_text="Billing").count() == 1
    assert boss.locator("nav a", has_text="Agents").count() == 0
    boss.goto(f"{live.url}/console/queue")
    row = boss.locator(f"#activity-{activity_id}")
    row.locator("input[name=reason]").fill("billing is back up")
    row.locator("button", has_text="Retry").click()
    assert f"Activity {activity_id} will be retried now." in boss.inner_text(".flash.ok")
    assert boss.goto(f"{live.url}/console/admin/agents").status == 403
    with services.db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "activity"))
        assert (entry.actor, entry.detail) == ("supervisor", "retry: billing is back up")

    admin = open_page(chromium)
    log_in(admin, live, "admin", users["admin"])
    admin.click("nav >> text=Agents")
    admin.click("a:has-text('1003')")
    admin.click("button:has-text('Unlock agent')")
    assert "Agent 1003 unlocked." in admin.inner_text(".flash.ok")
    with services.db.transaction() as session:
        assert not session.scalar(select(Agent.locked).where(Agent.agent_code == "1003"))
    for page in (csr, boss, admin):
        page.context.close()


PAGES = [
    ("dashboard", "/console/dashboard"),
    ("escalations", "/console/escalations"),
    ("escalation", "/console/escalations/1"),
    ("comparison-escalation", "/console/escalations/{found}"),
    ("lookup", "/console/lookup?by=agent&q=1001"),
    ("transaction", "/console/transactions/{code}"),
    ("queue", "/console/queue"),
    ("billing", "/console/billing?code={active}"),
    ("agents", "/console/admin/agents"),
    ("agent", "/console/admin/agents/1001"),
    ("rate-plans", "/console/admin/rate-plans"),
    ("switches", "/console/admin/switches"),
    ("deposits", "/console/admin/deposits"),
    ("users", "/console/admin/users"),
]


def comparison_escalation(services: Any, tmp_path: Path) -> int:
    """A number put on HOU1 by hand, found by a real comparison run; its escalation's id."""
    with services.db.read() as session:
        switch = session.scalar(select(Switch).where(Switch.name == "HOU1"))
        line = open_session(definition(switch, services.vault), deadline=10)
    try:
        line.insert(Subscriber("7135559999", "13803180000", "10"))
    finally:
        line.close()
    run = run_comparison(services, ["HOU1"], tmp_path / "reports", repair=True)
    with services.db.read() as session:
        ref = session.scalar(
            select(ComparisonFinding.repair_ref).where(
                ComparisonFinding.run_id == run.run_id, ComparisonFinding.kind == "unknown_to_cas"
            )
        )
    return int(ref.split()[1])


def test_every_page_reads_at_1280_and_on_a_phone(
    chromium, live, services, users, api_key, worker, switches, screenshots, tmp_path
):
    partner = Partner(live.url, api_key)
    active = partner.create(agent="1001", pin="2468").json()["transaction_code"]
    for value in ("13803186458", "1", "1", "234567890", "1"):
        partner.answer(active, value)
    partner.wait_past_hold(active)
    for value in ("1", "2", "20", "1", "281555", "1"):
        partner.answer(active, value)
    assert partner.wait_past_hold(active)["status"] == "active"
    code = escalate_at_npa_nxx(live)
    found = comparison_escalation(services, tmp_path)
    with services.db.transaction() as session:
        activities.enqueue(session, "billing_record", {}, target="billing").state = "failed"

    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(chromium, viewport)
        page.goto(f"{live.url}/console/login")
        shoot(page, screenshots, f"login-{size}")
        log_in(page, live, "admin", users["admin"])
        for name, path in PAGES:
            reply = page.goto(live.url + path.format(code=code, active=active, found=found))
            assert reply.status == 200, (name, reply.status)
            assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
            shoot(page, screenshots, f"{name}-{size}")
        page.goto(f"{live.url}/console/escalations/{found}")
        body = page.inner_text("main")
        assert "What each side holds for 713-555-9999" in body and "13803180000" in body
        assert "Take the number off the switch" in body
        page.goto(f"{live.url}/console/dashboard")
        assert "HOU1 unknown to CAS" in page.inner_text("main")
        assert page.locator("svg.chart").count() >= 3
        assert page.locator("svg.chart rect.bar").count() >= 3
        assert page.refused == []  # the pages live within their Content-Security-Policy
        page.context.close()
    assert len(list(screenshots.glob("*.png"))) == 2 * (len(PAGES) + 1)


def test_a_change_a_misclick_should_not_make_asks_first(chromium, live, services, users, api_key):
    admin = open_page(chromium)
    log_in(admin, live, "admin", users["admin"])
    admin.goto(f"{live.url}/console/admin/users")
    asked: list[str] = []

    def answer(accept: bool):  # type: ignore[no-untyped-def]
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    admin.once("dialog", answer(False))
    admin.click("button:has-text('revoke')")
    assert asked == ["Revoke the API key of shop? It stops working at once."]
    assert admin.locator("td", has_text="revoked").count() == 0  # nothing was sent
    admin.once("dialog", answer(True))
    admin.click("button:has-text('revoke')")
    assert "of shop revoked." in admin.inner_text(".flash.ok")
    assert len(asked) == 2 and admin.refused == []
    with services.db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.new_status == "revoked"))
        assert entry.actor == "admin"


def test_a_line_with_a_completed_and_a_held_order_at_1280_and_on_a_phone(
    chromium, line_cas, line_live, screenshots
):
    cas, mid = line_cas, line_cas.mid
    number = f"{mid[:3]}-{mid[3:6]}-{mid[6:]}"
    csr = open_page(chromium)
    log_in(csr, line_live, "csr", cas.passwords["csr"])
    csr.click("nav >> text=Look-up")
    csr.select_option("select[name=by]", "mid")
    csr.fill("input[name=q]", number)
    csr.click("button:has-text('Find')")
    csr.click(f"a:has-text('Line {number}')")
    csr.wait_for_url(f"**/console/lines/{mid}")
    assert "Jane Q Public" in csr.inner_text("main") and "***-**-6789" in csr.inner_text("main")

    csr.select_option("select[name=rate_plan]", "20")
    csr.click("button:has-text('Change plan')")
    assert "placed (rate plan change)" in csr.inner_text(".flash.ok")
    assert "is in flight" in csr.inner_text("#in-flight")
    drain(cas.services)
    csr.reload()
    assert "20 Economy" in csr.inner_text("main")
    shoot(csr, screenshots, "line-forms-desktop")

    # A disconnect asks first; dismissed, nothing is placed.
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    csr.once("dialog", dismiss)
    csr.click("button:has-text('Disconnect')")
    assert asked == [
        f"Disconnect {number} for good? The number ages 45 days before it is handed out again."
    ]
    assert csr.locator(".flash").count() == 0 and csr.locator("#in-flight").count() == 0

    csr.select_option("select[name=reason]", "stolen")
    cas.switch.faults.append("deny")
    csr.click("button:has-text('Suspend')")
    drain(cas.services)
    csr.reload()
    held = csr.inner_text("#in-flight")
    assert "Held: switch refused" in held and "A supervisor may give the order up." in held
    assert csr.locator("#in-flight button", has_text="Give up").count() == 0
    with cas.services.db.read() as session:
        states = session.scalars(select(Order.status).order_by(Order.id)).all()
    assert states == ["completed", "held"]
    csr.context.close()

    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(chromium, viewport)
        log_in(page, line_live, "supervisor", cas.passwords["supervisor"])
        page.goto(f"{line_live.url}/console/lines/{mid}")
        assert page.locator("tr[id^=order-] .state.completed").count() == 1
        assert page.locator("tr[id^=order-] .state.held").count() == 1
        shoot(page, screenshots, f"line-{size}")
        page.context.close()

    boss = open_page(chromium, PHONE)
    log_in(boss, line_live, "supervisor", cas.passwords["supervisor"])
    boss.goto(f"{line_live.url}/console/lines/{mid}")
    boss.fill("#in-flight input[name=reason]", "the customer found the phone")
    boss.once("dialog", lambda dialog: dialog.accept())
    boss.click("#in-flight button:has-text('Give up')")
    assert "given up." in boss.inner_text(".flash.ok")
    assert boss.locator("form#order-suspend").count() == 1  # the line takes orders again
    shoot(boss, screenshots, "line-forms-phone")
    boss.context.close()
