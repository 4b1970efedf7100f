"""The slow PIN hash runs while no write lock is held, so other calls are not held up."""

from __future__ import annotations

import sqlite3

import activation.secrets as secrets_module

from .conftest import AGENT_PHONE, CAS_NUMBER


def test_the_pin_is_hashed_once_and_outside_the_write_lock(phone, services, monkeypatch):
    database = services.settings.data_dir / "cas.sqlite3"
    seen: list[bool] = []
    real_check = secrets_module.check_pin

    def check_pin_while_probing(pin: str, stored: str) -> bool:
        other = sqlite3.connect(database, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails fast if a webhook holds the write lock
            other.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:
            seen.append(False)
        finally:
            other.close()
        return real_check(pin, stored)

    monkeypatch.setattr(secrets_module, "check_pin", check_pin_while_probing)
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    call.press("2468#")
    assert "Hello Pat Seller" in " ".join(call.heard)
    assert seen == [True]
