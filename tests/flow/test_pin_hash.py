"""PINs are hashed as current guidance asks; an older, weaker hash is replaced at log-on."""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import select

from activation.secrets import check_pin, hash_pin, pin_hash_outdated
from activation.store.models import Agent

from .conftest import AGENT_PHONE, CAS_NUMBER


def _old_hash(pin: str) -> str:
    """A hash as CAS made them before: PBKDF2-SHA256 with 120,000 iterations."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, 120_000)
    return f"pbkdf2$120000${salt.hex()}${digest.hex()}"


def _stored(services) -> str:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return session.scalar(select(Agent.pin_hash).where(Agent.agent_code == "1001"))


def test_a_new_pin_hash_takes_owasp_s_pbkdf2_work_factor() -> None:
    stored = hash_pin("2468")
    assert stored.startswith("pbkdf2$600000$") and "2468" not in stored
    assert check_pin("2468", stored) and not check_pin("2469", stored)
    assert not pin_hash_outdated(stored) and pin_hash_outdated(_old_hash("2468"))


def test_an_outdated_pin_hash_is_replaced_at_a_good_log_on_only(phone, services):  # type: ignore[no-untyped-def]
    old = _old_hash("2468")
    with services.db.transaction() as session:
        session.scalars(select(Agent).where(Agent.agent_code == "1001")).one().pin_hash = old
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    call.press("1111#")  # a wrong PIN keeps the hash as it was
    assert _stored(services) == old
    call.press("1001#")
    call.press("2468#")
    assert "Hello Pat Seller" in " ".join(call.heard)
    renewed = _stored(services)
    assert renewed != old and renewed.startswith("pbkdf2$600000$")
    assert check_pin("2468", renewed) and not check_pin("1111", renewed)


def _count_hashes(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The PINs hashed the slow way from now on, in order."""
    import activation.secrets as secrets_module

    hashed: list[str] = []
    real_check = secrets_module.check_pin

    def counting_check(pin: str, stored: str) -> bool:
        hashed.append(pin)
        return real_check(pin, stored)

    monkeypatch.setattr(secrets_module, "check_pin", counting_check)
    return hashed


def test_a_partners_activate_orders_hash_the_agents_pin_once(services, monkeypatch):  # type: ignore[no-untyped-def]
    from activation.service_layer.staff import add_api_key
    from ivr import create_app

    with services.db.transaction() as session:
        key = add_api_key(session, "shop")
    client = create_app({"TESTING": True}, services=services).test_client()
    hashed = _count_hashes(monkeypatch)
    body = {
        "type": "activate",
        "agent": "1001",
        "customer": {"kind": "individual", "ssn": "123456789"},
        "rate_plan": "10",
        "npa_nxx": "713555",
    }
    for n, (pin, esn) in enumerate([("2468", "13803186457"), ("2468", "13803186458")]):
        reply = client.post(
            "/api/orders",
            json={**body, "pin": pin, "esn": esn},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"k{n}"},
        )
        assert reply.status_code == 201, reply.get_json()
    wrong = client.post(
        "/api/orders",
        json={**body, "pin": "2469", "esn": "13803186459"},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k3"},
    )
    assert wrong.status_code == 403
    assert hashed == ["2468", "2469"]  # the second order's PIN was remembered, not hashed


def test_a_pin_verified_once_is_not_hashed_again_until_it_changes(phone, services, monkeypatch):  # type: ignore[no-untyped-def]
    from activation.service_layer.reference import reset_pin

    hashed = _count_hashes(monkeypatch)

    def log_on(pin: str) -> str:
        call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
        call.press("1001#")
        return call.press(f"{pin}#")

    assert "Hello Pat Seller" in log_on("2468")
    assert "Hello Pat Seller" in log_on("2468")
    assert hashed == ["2468"]  # the second log-on was a keyed MAC, not a slow hash
    assert "Hello Pat Seller" not in log_on("2469")
    assert "Hello Pat Seller" not in log_on("2469")
    assert hashed == ["2468", "2469", "2469"]  # a wrong PIN is hashed every time
    reset_pin(services, "1001", "1357", "test")
    assert "Hello Pat Seller" not in log_on("2468")  # the old PIN is checked against the new hash
    assert "Hello Pat Seller" in log_on("1357")
    assert hashed[-2:] == ["2468", "1357"]


def test_log_ons_at_once_with_the_same_pin_hash_it_once(monkeypatch):  # type: ignore[no-untyped-def]
    import threading
    import time

    import activation.secrets as secrets_module
    from activation.secrets import VerifiedPins

    stored = hash_pin("2468")
    hashed: list[str] = []
    slow = secrets_module.check_pin

    def counted(pin: str, stored_hash: str) -> bool:
        hashed.append(pin)
        time.sleep(0.2)  # long enough for every other thread to arrive meanwhile
        return slow(pin, stored_hash)

    monkeypatch.setattr(secrets_module, "check_pin", counted)
    pins = VerifiedPins(os.urandom(32))
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(pins.check("2468", stored)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert hashed == ["2468"]  # one slow hash; the others waited for its result
    # A wrong PIN is still hashed on every try, at once or not: guessing stays slow.
    wrong = [threading.Thread(target=pins.check, args=("1111", stored)) for _ in range(3)]
    for thread in wrong:
        thread.start()
    for thread in wrong:
        thread.join()
    assert hashed.count("1111") == 3
