"""Every path a handset takes: delivery, activation, unstocked sale, deny, swap, loss."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activation.followup import callbacks
from activation.inventory import deliveries, reorders, sales
from activation.inventory.deliveries import DeliveryRefused, Item, ShipmentRefused
from activation.inventory.stock import on_hand
from activation.jobs.reorder import WarehouseReorder
from activation.lifecycle import orders
from activation.store.inventory import HandsetMovement, Reorder
from activation.store.models import Activity, Agent, Handset
from tests.queue.conftest import active_transaction


def _agent(session, code: str) -> Agent:  # type: ignore[no-untyped-def]
    return session.scalar(select(Agent).where(Agent.agent_code == code))


def _moves(session, esn: str) -> list[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(HandsetMovement).where(HandsetMovement.esn == esn).order_by(HandsetMovement.id)
    )
    return [(m.from_location, m.to_location) for m in rows]


def _sold_line(session, code: str, mid: str, esn: str, agent: str = "1001"):  # type: ignore[no-untyped-def]
    """A line just activated: its transaction active, its handset sold through the stock."""
    tx = active_transaction(session, code, mid, esn=esn, agent=agent)
    # active_transaction marks the handset active by hand; the stock is the inventory's.
    handset = session.get(Handset, esn)
    handset.status, handset.location = "in_stock", "at_agent"
    sales.sell(session, tx, esn, "worker", f"activated MID {mid}")
    return tx


def test_demo_agents_hold_stock_of_two_products(services):
    with services.db.transaction() as session:
        for code in ("1001", "1002", "1003"):
            agent = _agent(session, code)
            assert on_hand(session, agent.id, "MT100") >= 2
            assert on_hand(session, agent.id, "ST200") >= 2
        assert session.get(Handset, "13803186457").agent_id == _agent(session, "1001").id


def test_activation_takes_the_handset_from_the_agents_stock(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1001")
        before = on_hand(session, agent.id, "MT100")
        tx = _sold_line(session, "50000001", "7135550101", "13803186457")
        handset = session.get(Handset, "13803186457")
        assert (handset.location, handset.status, handset.agent_id) == ("sold", "active", None)
        assert on_hand(session, agent.id, "MT100") == before - 1
        last = session.scalars(
            select(HandsetMovement).where(HandsetMovement.esn == "13803186457")
        ).all()[-1]
        assert (last.from_location, last.to_location) == ("at_agent", "sold")
        assert (last.from_agent_id, last.transaction_id) == (agent.id, tx.id)
        assert "not in the agent's stock" not in last.reason


def test_a_handset_from_elsewhere_is_sold_and_the_movement_says_so(services):
    with services.db.transaction() as session:
        other = _agent(session, "1002")
        before = on_hand(session, other.id, "MT100")
        _sold_line(session, "50000002", "7135550102", "13803186611")  # 1002's handset
        last = session.scalars(
            select(HandsetMovement).where(HandsetMovement.esn == "13803186611")
        ).all()[-1]
        assert last.to_location == "sold" and "not in the agent's stock" in last.reason
        assert on_hand(session, other.id, "MT100") == before - 1


def test_a_denied_call_back_puts_the_handset_back_in_stock(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1001")
        tx = _sold_line(session, "50000003", "7135550103", "13803186458")
        held = on_hand(session, agent.id, "MT100")
        callbacks.deny(session, tx, "CA-test", "agent 1001")
        handset = session.get(Handset, "13803186458")
        assert (handset.location, handset.status, handset.agent_id) == (
            "at_agent",
            "in_stock",
            agent.id,
        )
        assert on_hand(session, agent.id, "MT100") == held + 1
        assert _moves(session, "13803186458")[-2:] == [("at_agent", "sold"), ("sold", "at_agent")]


@pytest.mark.parametrize(("fate", "where"), [("stock", "returned"), ("lost", "lost")])
def test_a_handset_swap_sells_the_new_one_and_returns_or_loses_the_old(services, fate, where):
    with services.db.transaction() as session:
        agent = _agent(session, "1001")
        tx = _sold_line(session, "50000004", "7135550104", "13803186457")
        before = on_hand(session, agent.id, "ST200")
        order = orders.place(
            session,
            tx,
            "change_esn",
            {"esn": "13803186501", "old_handset": fate},
            channel="phone",
            placed_by="t",
        )
        for activity in session.scalars(select(Activity).where(Activity.order_id == order.id)):
            activity.state = "done"
        assert orders.finish_if_done(session, order, 45)
        old, new = session.get(Handset, "13803186457"), session.get(Handset, "13803186501")
        assert old.location == where
        assert old.agent_id == (agent.id if fate == "stock" else None)
        assert old.status == ("lost" if fate == "lost" else "in_stock")
        assert (new.location, new.status) == ("sold", "active")
        assert on_hand(session, agent.id, "ST200") == before - 1
        # A returned handset is the agent's, but not stock to sell.
        assert on_hand(session, agent.id, "MT100") == 3


def test_a_delivery_is_stock_only_once_received(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1002")
        before = on_hand(session, agent.id, "MT100")
        items = [Item("13803186801"), Item("13803186802"), Item("13803186990", "MT100")]
        delivery = deliveries.ship(session, agent.id, items, "admin", "cli")
        assert session.get(Handset, "13803186990").location == "in_transit"
        assert on_hand(session, agent.id, "MT100") == before
        assert deliveries.receive(session, delivery.id, "agent 1002") == 3
        assert on_hand(session, agent.id, "MT100") == before + 3
        assert _moves(session, "13803186801")[-2:] == [
            ("headquarters", "in_transit"),
            ("in_transit", "at_agent"),
        ]
        assert _moves(session, "13803186990") == [(None, "in_transit"), ("in_transit", "at_agent")]
        with pytest.raises(DeliveryRefused, match="received already"):
            deliveries.receive(session, delivery.id, "agent 1002")


def test_a_shipment_with_a_wrong_esn_is_refused_whole_and_names_it(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1002")
        items = [Item("13803186803"), Item("13803186457"), Item("13803186991"), Item("12")]
        with pytest.raises(ShipmentRefused) as refused:
            deliveries.ship(session, agent.id, items, "admin", "cli")
        message = str(refused.value)
        assert "13803186457: it is at agent" in message
        assert "13803186991: a handset headquarters has not seen needs its product code" in message
        assert "12:" in message
        assert session.get(Handset, "13803186803").location == "headquarters"


def test_a_shortfall_opens_one_reorder_and_a_delivery_closes_it(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1001")  # MT100: 4 in stock, minimum 3, re-order 5
        _sold_line(session, "50000005", "7135550105", "13803186457")
        assert session.scalar(select(Reorder)) is None  # 3 left: not below the minimum
        _sold_line(session, "50000006", "7135550106", "13803186458")
        _sold_line(session, "50000007", "7135550107", "13803186459")
        opened = session.scalars(select(Reorder)).all()
        assert [(r.product_code, r.quantity, r.state, r.stock_at_order) for r in opened] == [
            ("MT100", 5, "open", 2)
        ]
        activity = session.get(Activity, opened[0].activity_id)
        assert (activity.type, activity.target, activity.payload["quantity"]) == (
            "warehouse_reorder",
            "warehouse",
            5,
        )
        items = [Item(esn) for esn in ("13803186801", "13803186802", "13803186803")]
        delivery = deliveries.ship(session, agent.id, items, "admin", "cli")
        assert opened[0].state == "open"  # in transit is not stock yet
        deliveries.receive(session, delivery.id, "agent 1001")
        assert (opened[0].state, opened[0].delivery_id, opened[0].open_key) == (
            "closed",
            delivery.id,
            None,
        )
        assert reorders.open_reorder(session, agent.id, "MT100") is None


def test_the_reorder_reaches_the_warehouse_under_its_reference(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1003")  # MT100: 2 in stock, minimum 1
        reorder = reorders.check(session, agent.id, "MT100", "test")
        assert reorder is None
        for esn in ("13803186711", "13803186712"):
            handset = session.get(Handset, esn)
            handset.location = "lost"
        reorder = reorders.check(session, agent.id, "MT100", "test")
        activity = session.get(Activity, reorder.activity_id)
        job = WarehouseReorder()
        work = job.prepare(session, activity, services)
    result = job.perform(work, 1, services)
    again = job.perform(work, 2, services)  # a retry: the same re-order at the warehouse
    assert result == again == {"outcome": "sent", "reference": f"CAS-R{reorder.id}"}
    taken = services.warehouse.reorders()
    assert [(r.reference, r.agent_code, r.product_code, r.quantity) for r in taken] == [
        (f"CAS-R{reorder.id}", "1003", "MT100", 2)
    ]


def test_a_swap_that_brings_stock_below_the_minimum_reorders(services):
    with services.db.transaction() as session:
        agent = _agent(session, "1001")  # ST200: 3 in stock, minimum 2
        tx = _sold_line(session, "50000008", "7135550108", "13803186457")
        for esn in ("13803186501", "13803186502"):
            order = orders.place(
                session,
                tx,
                "change_esn",
                {"esn": esn, "old_handset": "stock"},
                channel="phone",
                placed_by="t",
            )
            for activity in session.scalars(select(Activity).where(Activity.order_id == order.id)):
                activity.state = "done"
            assert orders.finish_if_done(session, order, 45)
        reorder = reorders.open_reorder(session, agent.id, "ST200")
        assert (reorder.quantity, reorder.stock_at_order) == (3, 1)
