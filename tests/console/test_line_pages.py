"""A line's page in the console: its subscriber and orders; a CSR places any order there."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from activation.store.models import Activity, Escalation, Handset, RatePlan, Transaction
from activation.store.orders import Order

from ..lifecycle.test_orders import ESN, NEW_ESN, drain
from .conftest import csrf_of, log_in
from .lines import start_line
from .test_console_actions import Console


def dashed(mid: str) -> str:
    return f"{mid[:3]}-{mid[3:6]}-{mid[6:]}"


def offered(page: str) -> set[str]:
    """The order types whose forms the page shows."""
    return set(re.findall(r'<form [^>]*id="order-([a-z_]+)"', page))


def orders(cas) -> list[Order]:  # type: ignore[no-untyped-def]
    with cas.services.db.read() as session:
        found = list(session.scalars(select(Order).order_by(Order.id)))
        session.expunge_all()
        return found


def line_tx(cas) -> Transaction:  # type: ignore[no-untyped-def]
    with cas.services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == "50000001"))
        session.expunge(tx)
        return tx


def test_the_page_shows_the_subscriber_and_the_look_up_leads_to_it(line_cas):
    cas = line_cas
    csr = Console(cas.app, "csr", cas.passwords["csr"])
    page = csr.get(f"/console/lines/{cas.mid}")
    with cas.services.db.read() as session:
        basic = session.get(RatePlan, "10")
        price = f"${basic.monthly_cents / 100:,.2f} a month"
    assert f"Line {dashed(cas.mid)}" in page
    for shown in ("Jane Q Public", "12 Main Street", "***-**-6789", ESN, "10 Basic", price, "HOU1"):
        assert shown in page, shown
    assert '<small class="state active">active</small>' in page
    assert "No orders since the activation." in page
    assert f"MID {cas.mid} on HOU1" in page  # the audit trail
    assert offered(page) == {"change_esn", "change_plan", "suspend", "disconnect"}
    plans = re.findall(r'<option value="(\d+)"[^>]*>\1 ', page)
    assert plans == ["20", "30"]  # the active plans but the line's own

    # The look-up by MID (keyed as people write it) and the transaction's page lead to it.
    found = csr.get(f"/console/lookup?by=mid&q={dashed(cas.mid)}")
    assert f'href="/console/lines/{cas.mid}"' in found and "Jane Q Public" in found
    assert f'href="/console/lines/{cas.mid}"' in csr.get("/console/transactions/50000001")
    assert csr.client.get("/console/lines/7135559999").status_code == 404
    assert csr.client.get("/console/lines/71355500x1").status_code == 404


def test_a_csr_places_every_order_type_and_each_completes(line_cas):
    cas = line_cas
    csr = Console(cas.app, "csr", cas.passwords["csr"])
    url = f"/console/lines/{cas.mid}"

    page = csr.post(f"{url}/orders", type="change_esn", esn=NEW_ESN, old_handset="stock")
    code = orders(cas)[-1].code
    assert f"Order {code} placed (handset change)" in page
    assert f"Order {code} is in flight" in page and offered(page) == set()
    drain(cas.services)
    page = csr.get(url)
    assert "in flight" not in page and line_tx(cas).esn == NEW_ESN
    assert cas.switch.held[cas.mid] == NEW_ESN
    with cas.services.db.read() as session:
        assert session.get(Handset, ESN).status == "in_stock"

    csr.post(f"{url}/orders", type="change_plan", rate_plan="30")
    drain(cas.services)
    page = csr.get(url)
    assert "30 Discount" in page and cas.switch.features[cas.mid] == "30"

    csr.post(f"{url}/orders", type="suspend", reason="non_payment")
    drain(cas.services)
    page = csr.get(url)
    assert "Suspended: non-payment." in page and cas.mid in cas.switch.suspended
    assert offered(page) == {"change_esn", "change_plan", "restore", "disconnect"}

    csr.post(f"{url}/orders", type="restore")
    drain(cas.services)
    page = csr.get(url)
    assert line_tx(cas).status == "active" and cas.mid not in cas.switch.suspended
    assert "restore" not in offered(page)

    page = csr.post(f"{url}/orders", type="disconnect")
    assert "placed (disconnection)" in page
    drain(cas.services)
    page = csr.get(url)
    assert "Disconnected." in page and "The number ages until" in page
    assert offered(page) == set() and "it takes no more orders" in page
    assert cas.mid not in cas.switch.held and line_tx(cas).former_mid == cas.mid

    placed = orders(cas)
    assert [o.type for o in placed] == [
        "change_esn",
        "change_plan",
        "suspend",
        "restore",
        "disconnect",
    ]
    assert {(o.status, o.channel, o.placed_by) for o in placed} == {("completed", "console", "csr")}
    # Newest first on the page, each with its milestones and its work.
    rows = re.findall(r'<tr id="order-(\d+)">', page)
    assert rows == [o.code for o in reversed(placed)]
    assert page.count("line change on the switch to HOU1: <b>done</b>") == 5
    assert page.count("billing update to billing: <b>done</b>") == 5
    assert page.count("<b>completed</b>") == 5
    # The former MID still leads to the disconnected line.
    found = csr.get(f"/console/lookup?by=mid&q={cas.mid}")
    assert f'href="/console/lines/{cas.mid}?code=50000001"' in found
    assert "(had this number)" in found
    assert "Disconnected." in csr.get(f"/console/lines/{cas.mid}?code=50000001")


def test_an_order_the_line_cannot_take_is_refused_in_words(line_cas):
    cas = line_cas
    csr = Console(cas.app, "csr", cas.passwords["csr"])
    url = f"/console/lines/{cas.mid}"
    for form, words in (
        ({"type": "restore"}, "Not placed: the line is active: it cannot be given a restore."),
        ({"type": "change_esn", "esn": "12345"}, "Not placed: the new ESN"),
        ({"type": "change_esn", "esn": ESN}, "that handset is the line&#39;s own already"),
        ({"type": "change_plan", "rate_plan": "99"}, "rate plan &#39;99&#39; is not available"),
        ({"type": "suspend", "reason": "bored"}, "the reason is lost, stolen or non_payment"),
        ({"type": "rename"}, "no such order type"),
    ):
        page = csr.post(f"{url}/orders", **form)
        assert words in page, (form, page)
    assert orders(cas) == []
    # What was typed comes back in the form.
    page = csr.post(f"{url}/orders", type="change_esn", esn="1380318645", old_handset="lost")
    assert 'value="1380318645"' in page and '<option value="lost" selected>' in page

    page = csr.post(f"{url}/orders", type="change_plan", rate_plan="20")
    first = orders(cas)[0].code
    page = csr.client.post(
        f"{url}/orders", data={"type": "suspend", "reason": "lost", "csrf_token": csr.token}
    )
    page = csr.get(page.headers["Location"])
    assert f"Order {first} is in flight on this line: place this one once it is done." in page
    assert len(orders(cas)) == 1

    reply = csr.client.post(
        "/console/lines/2125550000/orders",
        data={"type": "restore", "csrf_token": csr.token},
        follow_redirects=True,
    )
    assert reply.status_code == 404
    assert "No line in service has the number 212-555-0000." in reply.get_data(as_text=True)


def test_a_held_order_shows_why_and_only_a_supervisor_gives_it_up(line_cas):
    cas = line_cas
    url = f"/console/lines/{cas.mid}"
    csr = Console(cas.app, "csr", cas.passwords["csr"])
    csr.post(f"{url}/orders", type="suspend", reason="stolen")
    code = orders(cas)[0].code
    cas.switch.faults.append("deny")
    drain(cas.services)

    page = csr.get(url)
    assert "Held: switch refused: refused by the switch." in page
    assert "None of its work waits to be retried." in page
    assert "A supervisor may give the order up." in page and "give-up" not in page
    assert offered(page) == set()
    # The escalation it raised leads to the line too.
    with cas.services.db.read() as session:
        esc = session.scalar(select(Escalation.id).where(Escalation.reason.like(f"order {code}%")))
    assert f'href="{url}"' in csr.get(f"/console/escalations/{esc}")
    refused = csr.client.post(
        f"{url}/orders/{code}/give-up", data={"reason": "paid", "csrf_token": csr.token}
    )
    assert refused.status_code == 403
    assert orders(cas)[0].status == "held"

    boss = Console(cas.app, "supervisor", cas.passwords["supervisor"])
    page = boss.get(url)
    assert f'action="{url}/orders/{code}/give-up"' in page
    assert "Give the reason." in boss.post(f"{url}/orders/{code}/give-up", reason=" ")
    page = boss.post(f"{url}/orders/{code}/give-up", reason="customer found the phone")
    assert f"Order {code} given up." in page
    assert '<span class="state failed">failed</span>' in page
    assert "suspend" in offered(page) and line_tx(cas).status == "active"
    with cas.services.db.read() as session:  # decided: off the open escalations
        assert session.get(Escalation, esc).state == "closed"
    page = boss.post(f"{url}/orders/{code}/give-up", reason="again")
    assert f"Order {code} is failed." in page


def test_failed_work_links_to_the_queue_whose_retry_resumes_the_order(line_cas):
    cas = line_cas
    url = f"/console/lines/{cas.mid}"
    csr = Console(cas.app, "csr", cas.passwords["csr"])
    csr.post(f"{url}/orders", type="change_plan", rate_plan="20")
    for _ in range(8):
        cas.switch.faults.append("down")
    drain(cas.services, waits=True)
    with cas.services.db.read() as session:
        failed = session.scalar(select(Activity.id).where(Activity.state == "failed"))
    page = csr.get(url)
    assert "Held: switch gave up" in page
    link = f'href="/console/queue?type=switch_change#activity-{failed}"'
    assert link in page
    assert f'id="activity-{failed}"' in csr.get("/console/queue?type=switch_change")

    boss = Console(cas.app, "supervisor", cas.passwords["supervisor"])
    boss.post(f"/console/queue/{failed}/retry", reason="the switch is back")
    assert "<b>inProgress</b>" in boss.get(url).split('id="in-flight"')[1]
    drain(cas.services, waits=True)
    page = boss.get(url)
    assert "in flight" not in page and "20 Economy" in page
    assert orders(cas)[0].status == "completed"


@pytest.mark.parametrize("days", [45, 60])
def test_a_disconnect_asks_first_and_names_the_aging(settings, days):
    cas = start_line(replace(settings, number_aging_days=days))
    try:
        csr = Console(cas.app, "csr", cas.passwords["csr"])
        page = csr.get(f"/console/lines/{cas.mid}")
        form = page.split('id="order-disconnect"')[1].split("</form>")[0]
        asked = re.search(r'data-confirm="([^"]+)"', form)
        assert asked is not None, form
        assert asked.group(1) == (
            f"Disconnect {dashed(cas.mid)} for good? "
            f"The number ages {days} days before it is handed out again."
        )
        assert f"then ages {days} days before it is handed out again" in form
    finally:
        cas.services.db.dispose()


def test_order_forms_need_the_session_token_and_a_log_in(line_cas):
    cas = line_cas
    client = cas.app.test_client()
    url = f"/console/lines/{cas.mid}"
    reply = client.get(url)
    assert reply.status_code == 302 and "/console/login" in reply.headers["Location"]
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    reply = client.post(f"{url}/orders", data={"type": "restore", "csrf_token": token})
    assert reply.status_code == 401
    log_in(client, "csr", cas.passwords["csr"])
    reply = client.post(f"{url}/orders", data={"type": "disconnect", "csrf_token": "forged"})
    assert reply.status_code == 400
    assert orders(cas) == []
