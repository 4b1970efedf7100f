"""The positive validation system is asked before any lock, and within its deadline."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from activation.store.models import Escalation, Transaction

from .conftest import log_on
from .test_activation import new_transaction

ESN = "13803186457"


class HungPVS:
    """A positive validation system that never answers (until the test ends)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def is_listed(self, esn: str) -> bool:
        self.release.wait(60)
        return False


class BrokenPVS:
    def is_listed(self, esn: str) -> bool:
        raise ConnectionError("PVS link down")


@pytest.fixture
def hung(services):  # type: ignore[no-untyped-def]
    pvs = HungPVS()
    services.pvs = pvs
    services.settings = replace(services.settings, pvs_deadline=0.3)
    yield pvs
    pvs.release.set()


def escalations(services) -> list[str]:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return list(session.scalars(select(Escalation.reason)))


def test_a_pvs_that_does_not_answer_sends_the_caller_to_a_csr_in_time(phone, services, hung):
    call = log_on(phone)
    code = new_transaction(call)
    started = time.monotonic()
    heard = call.press(ESN + "#")
    # The PVS would hold the webhook for a minute; the caller waits its deadline and no more.
    assert time.monotonic() - started < 10
    assert call.transfer is not None
    assert "cannot be checked right now" in heard
    assert escalations(services) == ["PVS did not answer: no answer in 0.3 s"]
    with services.db.read() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        assert tx.esn == ESN  # the CSR gets the handset with the transaction


def test_a_pvs_that_fails_sends_the_caller_to_a_csr(phone, services):
    services.pvs = BrokenPVS()
    call = log_on(phone)
    new_transaction(call)
    call.press(ESN + "#")
    assert call.transfer is not None
    assert escalations(services) == ["PVS did not answer: ConnectionError: PVS link down"]


def test_the_pvs_is_asked_once_and_outside_the_write_lock(phone, services):
    database = services.settings.data_dir / "cas.sqlite3"
    asked: list[tuple[str, bool]] = []

    class ProbingPVS:
        def is_listed(self, esn: str) -> bool:
            other = sqlite3.connect(database, timeout=0.05, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # fails fast if a webhook holds the write lock
                other.execute("ROLLBACK")
                asked.append((esn, True))
            except sqlite3.OperationalError:
                asked.append((esn, False))
            finally:
                other.close()
            return False

    services.pvs = ProbingPVS()
    call = log_on(phone)
    new_transaction(call)
    call.press("12345#")  # too short: re-prompted, the PVS is not asked
    call.press(ESN + "#")
    assert "individual customer" in call.press("1")
    assert asked == [(ESN, True)]
