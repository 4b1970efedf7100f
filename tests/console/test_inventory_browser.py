"""The inventory pages in headless Chromium at desktop and phone widths, with screenshots:
stock against minimums with a re-order open, the stock chart, sales; a delivery shipped and
received through the forms; an admin adding a product and keeping an agent's salespeople."""

from __future__ import annotations

from ..inventory.test_console_inventory import _sell
from .conftest import DESKTOP, PHONE
from .test_console_browser import log_in as browser_log_in
from .test_console_browser import open_page, shoot


def test_the_inventory_pages_in_a_browser_at_desktop_and_phone_widths(
    chromium, live, users, services, screenshots
):
    _sell(services, ["13803186457", "13803186458"])
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(chromium, viewport)
        browser_log_in(page, live, "supervisor", users["supervisor"])
        page.goto(f"{live.url}/console/inventory")
        assert "re-order open" in page.inner_text("#stock-1001-MT100")
        assert page.locator("svg.chart").count() == 1
        shoot(page, screenshots, f"inventory-{width}")
        page.goto(f"{live.url}/console/inventory/sales")
        shoot(page, screenshots, f"sales-{width}")
        assert page.refused == []
        page.context.close()
    page = open_page(chromium)
    browser_log_in(page, live, "supervisor", users["supervisor"])
    page.goto(f"{live.url}/console/inventory")
    page.fill("input[name=agent]", "1002")
    page.fill("textarea[name=esns]", "13803186803")
    page.click("button:has-text('Ship')")
    assert "1 handsets in transit to agent 1002" in page.inner_text("body")
    page.click("#deliveries button:has-text('Receive')")
    assert "received: 1 handsets in stock" in page.inner_text("body")
    shoot(page, screenshots, "inventory-received")
    page.context.close()

    admin = open_page(chromium)
    browser_log_in(admin, live, "admin", users["admin"])
    admin.goto(f"{live.url}/console/inventory")
    admin.fill("input[name=code]", "PG010")
    admin.fill("input[name=model]", "Bravo pager")
    admin.fill("input[name=kind]", "pager")
    admin.click("button:has-text('Add product')")
    assert "Product PG010 added: Bravo pager (pager)." in admin.inner_text("body")
    admin.goto(f"{live.url}/console/admin/agents/1004/stock")
    row = "#salesperson-12"
    admin.fill(f"{row} input[name=rate_plans]", "10 20")
    admin.click(f"{row} button:has-text('Set')")
    assert "may sell rate plans 10, 20; NPA-NXX 713555." in admin.inner_text("body")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click(f"{row} button:has-text('take log-on away')")
    assert "no log-on" in admin.inner_text(f"{row} td.standing")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click(f"{row} button:has-text('New PIN')")
    assert "Salesperson 12 has a new PIN." in admin.inner_text("body")
    shoot(admin, screenshots, "salespeople-admin")
    assert admin.refused == []
    admin.context.close()
    assert sorted(p.name for p in screenshots.iterdir()) == [
        "inventory-desktop.png",
        "inventory-phone.png",
        "inventory-received.png",
        "sales-desktop.png",
        "sales-phone.png",
        "salespeople-admin.png",
    ]
