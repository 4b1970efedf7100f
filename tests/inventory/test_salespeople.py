"""By phone: salespeople log on after their agent, their restrictions hold at the rate plan
and NPA-NXX steps with a prompt that says why, and the transaction records who sold it."""

from __future__ import annotations

from sqlalchemy import select

from activation.store.models import Escalation, Transaction
from activation.store.salespeople import Salesperson
from tests.flow.conftest import app, log_on, phone, switches  # noqa: F401
from tests.flow.test_activation import new_transaction, through_credit


def _salesperson_log_on(phone, code: str, pin: str):  # type: ignore[no-untyped-def]  # noqa: F811
    call = log_on(phone, "1004", "8642")
    assert "Hello Kim Dealer" in call.last_prompt and "salesperson I D" in call.last_prompt
    call.press(code + "#")
    assert "salesperson PIN" in call.last_prompt
    call.press(pin + "#")
    return call


def test_a_salesperson_logs_on_and_their_sale_is_recorded(phone, services, worker, switches):  # noqa: F811
    call = _salesperson_log_on(phone, "11", "1111")
    assert "Hello Robin" in call.last_prompt and "press pound" in call.last_prompt
    code = new_transaction(call)
    through_credit(call, esn="13803186731")
    call.press("1")
    call.press("20#")
    call.press("1")  # the rate plan read back: right
    call.press("281555#")
    call.press("1")
    assert "The new number is" in call.last_prompt
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        robin = session.scalar(select(Salesperson).where(Salesperson.code == "11"))
        assert (tx.salesperson_id, tx.status) == (robin.id, "active")


def test_a_wrong_salesperson_pin_is_asked_again_then_goes_to_a_csr(phone, services):  # noqa: F811
    call = log_on(phone, "1004", "8642")
    call.press("11#")
    heard = call.press("9999#")
    assert "That salesperson I D and PIN do not match" in heard
    assert "salesperson I D" in call.last_prompt
    call.press("77#")  # no such salesperson
    call.press("1111#")
    assert call.transfer is not None
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.reason)) == "salesperson log-on failed twice"
        robin = session.scalar(select(Salesperson).where(Salesperson.code == "11"))
        assert robin.failed_attempts == 1 and not robin.locked


def test_a_salespersons_restrictions_are_enforced_with_a_clear_prompt(phone, services, worker):  # noqa: F811
    call = _salesperson_log_on(phone, "12", "2222")  # Alex: plan 10 and 713555 only
    code = new_transaction(call)
    through_credit(call, esn="13803186732")
    call.press("1")
    heard = call.press("20#")
    assert "Rate plan 2 0 is not one salesperson Alex may sell" in heard
    assert "rate plan" in call.last_prompt
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    heard = call.press("281555#")
    assert "Salesperson Alex may not sell numbers in 2 8 1, 5 5 5" in heard
    call.press("713555#")
    assert "You entered 7 1 3, 5 5 5." in call.last_prompt
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.rate_plan_code, tx.npa_nxx) == ("10", "713555")


def test_an_agent_without_salespeople_goes_straight_to_the_menu(phone):  # noqa: F811
    call = log_on(phone)
    assert "salesperson" not in call.last_prompt and "press pound" in call.last_prompt


def test_by_api_an_agent_with_salespeople_needs_the_salespersons_log_on(app, services):  # noqa: F811
    from activation.service_layer.staff import add_api_key

    with services.db.transaction() as session:
        key = add_api_key(session, "shop")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    alone = client.post("/api/transactions", json={"agent": "1004", "pin": "8642"}, headers=headers)
    assert alone.status_code == 403 and "sells through salespeople" in alone.get_json()["error"]
    wrong = client.post(
        "/api/transactions",
        json={"agent": "1004", "pin": "8642", "salesperson": "12", "salesperson_pin": "9999"},
        headers=headers,
    )
    assert wrong.status_code == 403
    assert wrong.get_json()["error"] == "that salesperson ID and PIN do not match"
    ok = client.post(
        "/api/transactions",
        json={"agent": "1004", "pin": "8642", "salesperson": "12", "salesperson_pin": "2222"},
        headers=headers,
    )
    assert ok.status_code == 201, ok.get_json()
    code = ok.get_json()["transaction_code"]
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        alex = session.scalar(select(Salesperson).where(Salesperson.code == "12"))
        assert tx.salesperson_id == alex.id


def test_a_salesperson_may_not_move_a_line_to_a_plan_they_may_not_sell(phone, services):  # noqa: F811
    from tests.queue.conftest import active_transaction

    with services.db.transaction() as session:
        active_transaction(session, "44000001", "7135550401", plan="10", agent="1004")
    call = _salesperson_log_on(phone, "12", "2222")
    call.press("##")
    call.press("7135550401#")
    assert "belongs to Jane Q Public" in call.last_prompt
    call.press("1")
    call.press("2")
    heard = call.press("20#")
    assert "Rate plan 2 0 is not one salesperson Alex may sell" in heard
    assert "rate plan" in call.last_prompt
