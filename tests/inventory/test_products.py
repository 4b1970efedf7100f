"""Products added by an admin on the inventory page or by `cas inventory product add`, with a
clear refusal for a duplicate or a bad code; a new product can be shipped at once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from activation.service_layer.products import ProductRefused, add_product
from activation.store.inventory import Product
from activation.store.models import AuditEntry, Handset
from ivr.cli import cas
from tests.console.conftest import users  # noqa: F401
from tests.console.test_console_actions import Console
from tests.inventory.test_cli import env  # noqa: F401

from ..console.conftest import app  # noqa: F401


def test_a_product_is_added_once_with_a_well_formed_code(services):  # type: ignore[no-untyped-def]
    added = add_product(services, " xt-300 ", "Motorola  Timeport", "Handset", "ann")
    assert (added.code, added.model, added.kind) == ("XT-300", "Motorola Timeport", "handset")
    with pytest.raises(ProductRefused, match="There is a product XT-300 already"):
        add_product(services, "xt-300", "Another", "handset", "ann")
    for code in ("X", "-AB", "AB CD", "ABCDEFGHIJKLM", "MT/100"):
        with pytest.raises(ProductRefused, match="2 to 12 capital letters"):
            add_product(services, code, "Model", "handset", "ann")
    with pytest.raises(ProductRefused, match="Give the model"):
        add_product(services, "XT400", "  ", "handset", "ann")
    with pytest.raises(ProductRefused, match="A kind is"):
        add_product(services, "XT400", "Model", "4g!", "ann")
    with services.db.read() as session:
        assert session.get(Product, "XT400") is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "product"))
        assert (entry.entity_id, entry.new_status, entry.actor) == ("XT-300", "added", "ann")


def test_an_admin_adds_a_product_on_the_inventory_page(app, users, services):  # noqa: F811
    admin = Console(app, "admin", users["admin"])
    html = admin.get("/console/inventory")
    assert 'id="product-MT100"' in html and "Add a product" in html
    products = "/console/inventory/products"
    added = admin.post(products, code="PG010", model="Bravo pager", kind="pager")
    assert "Product PG010 added: Bravo pager (pager)." in added
    assert "<td>Bravo pager</td><td>pager</td>" in added
    again = admin.post(products, code="pg010", model="Other", kind="pager")
    assert "No product added: There is a product PG010 already." in again
    bad = admin.post(products, code="P", model="Other", kind="pager")
    assert "No product added: A product code is 2 to 12" in bad
    with services.db.read() as session:
        assert session.get(Product, "PG010").model == "Bravo pager"
        assert session.get(Product, "P") is None

    supervisor = Console(app, "supervisor", users["supervisor"])
    page = supervisor.get("/console/inventory")
    assert "Add a product" not in page and 'id="product-PG010"' in page
    refused = supervisor.client.post(
        products,
        data={"csrf_token": supervisor.token, "code": "PG020", "model": "M", "kind": "pager"},
    )
    assert refused.status_code == 403


def test_cas_inventory_product_add_then_ship_it(env, services):  # noqa: F811
    added = CliRunner().invoke(
        cas, ["inventory", "product", "add", "tp100", "--model", "Nokia 2110", "--kind", "handset"]
    )
    assert added.exit_code == 0, added.output
    assert added.output == "product TP100 added: Nokia 2110 (handset)\n"
    twice = CliRunner().invoke(cas, ["inventory", "product", "add", "TP100", "--model", "X"])
    assert twice.exit_code == 1
    assert "no product added: There is a product TP100 already." in twice.output
    bad = CliRunner().invoke(cas, ["inventory", "product", "add", "T P", "--model", "X"])
    assert bad.exit_code == 1 and "A product code is 2 to 12" in bad.output
    listed = CliRunner().invoke(cas, ["inventory", "product", "list"])
    assert "TP100        handset      Nokia 2110" in listed.output.splitlines()

    shipped = CliRunner().invoke(
        cas, ["inventory", "ship", "--agent", "1002", "--esn", "13803186901", "--product", "TP100"]
    )
    assert shipped.exit_code == 0, shipped.output
    with services.db.read() as session:
        assert session.get(Handset, "13803186901").product_code == "TP100"
