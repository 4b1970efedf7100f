"""Whole activation calls through the real app, the worker and switch simulator processes."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from activation.store.models import Activity, Customer, Escalation, TelephoneNumber, Transaction
from switch_adapters import open_session

from .conftest import log_on


def new_transaction(call) -> str:  # type: ignore[no-untyped-def]
    """Start a new transaction at the menu; return its code as heard."""
    heard = call.press("#")
    assert "Your transaction code is" in heard
    code = heard.split("transaction code is ")[1].split(".")[0].replace(" ", "")
    assert len(code) == 8 and code.isdigit()
    call.press("2")
    assert "E S N" in call.last_prompt
    return code


def through_credit(call, ssn: str = "123456789", esn: str = "13803186457") -> str:  # type: ignore[no-untyped-def]
    """Key ESN, individual, SSN and confirm; return what was heard up to the next prompt."""
    call.press(esn + "#")
    spoken_esn = " ".join(esn[:3]) + ", " + " ".join(esn[3:7]) + ", " + " ".join(esn[7:])
    assert f"You entered the handset {spoken_esn}." in call.last_prompt
    call.press("1")
    assert "individual" in call.last_prompt
    call.press("1")
    call.press(ssn + "#")
    spoken = " ".join(ssn[:3]) + ", " + " ".join(ssn[3:5]) + ", " + " ".join(ssn[5:])
    assert f"You entered {spoken}." in call.last_prompt
    return call.press("1")


def switch_holds(services, switch_name: str, mid: str):  # type: ignore[no-untyped-def]
    """Ask the switch itself (through its adapter) what it holds for a MID."""
    from activation.parties.switching import definition
    from activation.store.models import Switch

    with services.db.transaction() as session:
        switch = session.scalar(select(Switch).where(Switch.name == switch_name))
        defn = definition(switch, services.vault)
    line = open_session(defn, deadline=10)
    try:
        return line.query(mid)
    finally:
        line.close()


def test_happy_path_puts_the_new_number_on_the_tl1_switch(phone, services, worker, switches):
    call = log_on(phone)
    code = new_transaction(call)
    heard = through_credit(call)
    assert "Checking the customer's credit" in heard
    assert "Jane Q Public, 12 Main Street, Houston, Texas" in call.last_prompt
    heard = call.press("1")
    assert "No deposit is required" in heard and "rate plan" in call.last_prompt
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    assert "You entered 7 1 3, 5 5 5." in call.last_prompt
    call.press("1")
    assert "The new number is 7 1 3, 5 5 5, " in call.last_prompt
    spoken = call.last_prompt.split("The new number is ")[1].split(".")[0]
    mid = spoken.replace(",", "").replace(" ", "")
    assert mid.startswith("713555") and len(mid) == 10
    assert "Goodbye" in call.press("2") and call.ended and call.transfer is None

    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.status, tx.mid, tx.esn, tx.rate_plan_code) == (
            "active",
            mid,
            "13803186457",
            "10",
        )
        number = session.get(TelephoneNumber, mid)
        assert number.status == "active" and number.transaction_id == tx.id
        customer = session.get(Customer, tx.customer_id)
        assert customer.ssn_last4 == "6789" and "123456789" not in customer.ssn_encrypted
        assert customer.ssn_hash == services.vault.lookup_hash("123456789")
    held = switch_holds(services, "HOU1", mid)
    assert held is not None and held.esn == "13803186457" and held.features == "10"


def test_deposit_path_announces_the_deposit_and_records_how_it_is_paid(
    phone, services, worker, switches
):
    call = log_on(phone)
    code = new_transaction(call)
    through_credit(call, ssn="234567890", esn="13803186458")
    assert "John Smith" in call.last_prompt
    call.press("1")
    assert "A deposit of 200 dollars is required" in call.last_prompt
    call.press("2")
    call.press("20#")
    call.press("1")  # the rate plan read back: right
    call.press("281555#")
    call.press("1")
    assert "The new number is 2 8 1, 5 5 5" in call.last_prompt
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.deposit_cents, tx.deposit_method, tx.status) == (20000, "check", "active")
        assert tx.customer.deposit_method == "check"


def test_declined_credit_is_announced_and_offered_to_a_csr(phone, services, worker):
    call = log_on(phone)
    code = new_transaction(call)
    through_credit(call, ssn="345678901")
    call.press("1")
    assert "Credit is declined" in call.last_prompt
    call.press("1")
    assert call.transfer is not None and call.ended
    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.status == "declined" and tx.mid is None
        assert session.scalar(select(Escalation.reason)) == "credit declined"


def test_unknown_ssn_is_re_entered_then_goes_to_a_csr(phone, services, worker):
    call = log_on(phone)
    new_transaction(call)
    heard = through_credit(call, ssn="456789012")
    assert "no record" in heard and "social security number" in call.last_prompt
    call.press("456789012#")
    heard = call.press("1")
    assert call.transfer is not None
    with services.db.transaction() as session:
        reason = session.scalar(select(Escalation.reason))
        assert reason == "SSN or tax ID: unknown to the credit bureau, 2 times"


def test_active_and_pvs_listed_handsets_may_be_keyed_again_once_then_go_to_a_csr(phone, services):
    for esn, said, reason in (
        ("13800000001", "is already active", "ESN: handset 13800000001 already active"),
        ("13899999999", "is listed by the positive", "ESN: handset 13899999999 listed by PVS"),
    ):
        call = log_on(phone)
        new_transaction(call)
        heard = call.press(esn + "#")
        assert said in heard and "another handset" in heard and call.transfer is None, esn
        assert "E S N" in call.last_prompt
        call.press(esn + "#")
        assert call.transfer is not None, esn
        with services.db.transaction() as session:
            reasons = session.scalars(select(Escalation.reason)).all()
            assert f"{reason}, 2 times" in reasons


def test_unserved_npa_nxx_is_announced_and_re_entered(phone, services, worker, switches):
    call = log_on(phone)
    new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    heard = call.press("212555#")
    assert "2 1 2, 5 5 5 is not served" in heard and "N P A N X X" in call.last_prompt
    call.press("713555#")
    call.press("1")
    assert "The new number is 7 1 3" in call.last_prompt


def test_bad_rate_plan_twice_goes_to_a_csr(phone, services, worker):
    call = log_on(phone)
    new_transaction(call)
    through_credit(call)
    call.press("1")
    assert "Rate plan 9 9 is not available" in call.press("99#")
    call.press("77#")
    assert call.transfer is not None
    with services.db.transaction() as session:
        assert session.scalar(select(Escalation.reason)) == (
            "rate plan: rate plan 99 not available; then rate plan 77 not available"
        )


def test_no_free_number_is_assigned_twice(phone, services, worker, switches):
    mids = []
    for esn in ("13803186457", "13803186458"):
        call = log_on(phone)
        new_transaction(call)
        through_credit(call, esn=esn)
        call.press("1")
        call.press("10#")
        call.press("1")  # the rate plan read back: right
        call.press("713555#")
        call.press("1")
        mids.append(call.last_prompt.split("The new number is ")[1].split(".")[0])
    assert mids[0] != mids[1]

    def states() -> set[str]:
        with services.db.read() as session:
            return set(session.scalars(select(Activity.state)).all())

    deadline = time.monotonic() + 30  # billing follows the insertion by itself, just after
    while states() != {"done"}:
        assert time.monotonic() < deadline, states()
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("npa_nxx", "switch_name"), [("713555", "HOU1"), ("281555", "HOU2"), ("832555", "HOU3")]
)
def test_each_demo_switch_takes_a_live_activation(
    npa_nxx, switch_name, phone, services, worker, switches
):
    call = log_on(phone)
    new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("30#")
    call.press("1")  # the rate plan read back: right
    call.press(npa_nxx + "#")
    call.press("1")
    assert "The new number is" in call.last_prompt, call.heard[-3:]
    mid = npa_nxx + "0001"
    held = {s.mid: (s.esn, s.features) for s in switches[switch_name].subscribers()}
    assert held == {mid: ("13803186457", "30")}


def test_the_osmo_hlr_switch_takes_a_live_activation(phone, services, worker, tmp_path):
    from switch_adapters.osmo_hlr_daemon import start_osmo_hlr

    daemon = start_osmo_hlr(tmp_path / "osmo-hlr")
    if daemon is None:
        pytest.skip("osmo-hlr is not installed (apt-get install osmo-hlr)")
    with daemon:
        from activation.store.models import Switch

        with services.db.transaction() as session:
            hou4 = session.scalar(select(Switch).where(Switch.name == "HOU4"))
            hou4.primary_url, hou4.active = daemon.ctrl_url, True
        call = log_on(phone)
        new_transaction(call)
        through_credit(call)
        call.press("1")
        call.press("10#")
        call.press("1")  # the rate plan read back: right
        call.press("346555#")
        call.press("1")
        assert "The new number is 3 4 6, 5 5 5, 0 0 0 1" in call.last_prompt, call.heard[-3:]
        held = switch_holds(services, "HOU4", "3465550001")
        assert held is not None and held.esn == "13803186457"
