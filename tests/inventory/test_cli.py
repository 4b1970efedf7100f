"""`cas inventory`: ship, import a CSV drop, receive and list, with clear refusals."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from activation.store.inventory import Delivery
from activation.store.models import Handset
from ivr.cli import cas
from tests.conftest import TEST_SECRET


@pytest.fixture
def env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CAS_SECRET_KEY", TEST_SECRET)
    monkeypatch.delenv("CAS_DATABASE_URL", raising=False)


def _stock_row(output: str, agent: str, product: str) -> list[str]:
    for line in output.splitlines():
        cells = line.split()
        if cells[:2] == [agent, product]:
            return cells
    raise AssertionError(f"no {agent} {product} row in:\n{output}")


def test_ship_then_receive_grows_the_agents_stock(env, services):
    before = CliRunner().invoke(cas, ["inventory", "stock"])
    assert before.exit_code == 0, before.output
    assert _stock_row(before.output, "1002", "MT100")[2:5] == ["3", "0", "2"]

    shipped = CliRunner().invoke(
        cas,
        ["inventory", "ship", "--agent", "1002", "--esn", "13803186801", "--esn", "13803186802"],
    )
    assert shipped.exit_code == 0, shipped.output
    assert "2 handsets in transit to agent 1002" in shipped.output
    delivery = shipped.output.split("delivery ")[1].split(":")[0]
    during = CliRunner().invoke(cas, ["inventory", "stock"])
    assert _stock_row(during.output, "1002", "MT100")[2:4] == ["3", "2"]

    received = CliRunner().invoke(cas, ["inventory", "receive", delivery])
    assert received.exit_code == 0, received.output
    assert f"delivery {delivery} received: 2 handsets in stock" in received.output
    after = CliRunner().invoke(cas, ["inventory", "stock"])
    assert _stock_row(after.output, "1002", "MT100")[2:4] == ["5", "0"]
    again = CliRunner().invoke(cas, ["inventory", "receive", delivery])
    assert again.exit_code == 1 and "received already" in again.output


def test_a_wrong_shipment_is_refused_and_ships_nothing(env, services):
    result = CliRunner().invoke(
        cas, ["inventory", "ship", "--agent", "1001", "--esn", "13803186611"]
    )
    assert result.exit_code == 1
    assert "nothing shipped: 13803186611: it is at agent, not at headquarters" in result.output
    unknown = CliRunner().invoke(cas, ["inventory", "ship", "--agent", "4242", "--esn", "1"])
    assert unknown.exit_code == 1 and "no agent 4242" in unknown.output
    with services.db.read() as session:
        assert session.scalar(select(Delivery)) is None


def test_a_csv_drop_ships_one_delivery_per_agent_or_nothing(env, services, tmp_path):
    drop = tmp_path / "drop.csv"
    drop.write_text(
        "agent_code,esn,product_code\n"
        "1001,13803186803,\n"
        "1002,13803186851,ST200\n"
        "1002,13803186992,ST200\n"
    )
    result = CliRunner().invoke(cas, ["inventory", "import", str(drop)])
    assert result.exit_code == 0, result.output
    assert "1 handsets in transit to agent 1001" in result.output
    assert "2 handsets in transit to agent 1002" in result.output
    with services.db.read() as session:
        assert session.get(Handset, "13803186992").location == "in_transit"
        assert [d.source for d in session.scalars(select(Delivery))] == ["drop.csv"] * 2

    bad = tmp_path / "bad.csv"
    bad.write_text("agent_code,esn\n1001,13803186804\n1003,13803186457\n")
    refused = CliRunner().invoke(cas, ["inventory", "import", str(bad)])
    assert refused.exit_code == 1
    assert "agent 1003: 13803186457: it is at agent" in refused.output
    with services.db.read() as session:
        assert session.get(Handset, "13803186804").location == "headquarters"
    headless = tmp_path / "headless.csv"
    headless.write_text("1001,13803186804\n")
    no_columns = CliRunner().invoke(cas, ["inventory", "import", str(headless)])
    assert no_columns.exit_code == 1 and "no column" in no_columns.output
