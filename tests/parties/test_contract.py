"""One contract for each party's port, run over the simulator process and the in-process one.

Both are reached through the party's HTTP adapter: the process over a socket with
credentials, the in-process simulator through the in-process transport. What one answers,
the other answers.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from activation.parties.billing import BillingDesk, HttpBilling, billing_client
from activation.parties.client import InProcessTransport
from activation.parties.ports import (
    BillingRecord,
    BillingUnavailable,
    CreditReport,
    E911Refused,
    E911Registration,
    KeyReused,
    every_record,
)

from .conftest import fresh_code

ADDRESS = "12 Main Street, Houston, Texas"


def record(code: str, mid: str, plan: str = "10") -> BillingRecord:
    return BillingRecord(code, mid, "13803186457", plan, "Jane Q Public", ADDRESS, 0, "")


def registration(code: str, mid: str, address: str = ADDRESS) -> E911Registration:
    return E911Registration(mid, code, "Jane Q Public", address)


def fresh_mid(prefix: str = "713555") -> str:
    return prefix + fresh_code()[-4:]


# The credit bureau


def test_the_bureau_expands_a_known_ssn_to_name_address_and_score(bureau):  # type: ignore[no-untyped-def]
    assert bureau.report("individual", "123456789") == CreditReport(
        "Jane Q Public", "12 Main Street, Houston, Texas", 780
    )
    assert bureau.report("individual", "234567890").score == 640


def test_the_bureau_has_no_record_of_an_unknown_tax_id(bureau):  # type: ignore[no-untyped-def]
    assert bureau.report("individual", "456789012") is None
    assert bureau.report("business", "987654321") is None


# The positive validation system


def test_the_pvs_lists_a_handset_in_service_elsewhere_and_no_other(pvs):  # type: ignore[no-untyped-def]
    assert pvs.is_listed("13899999999") is True
    assert pvs.is_listed("13803186457") is False
    assert pvs.is_listed("490154203237518") is False  # an IMEI


def test_a_malformed_esn_never_reaches_the_pvs(pvs):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        pvs.is_listed("13803/../x")


# Billing


def test_billing_keeps_one_record_per_transaction_a_resubmission_replaces_it(billing):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid()
    assert billing.inquire(code) is None
    billing.submit(record(code, mid))
    billing.submit(record(code, mid))  # a retry: still one record
    assert billing.inquire(code) == record(code, mid)
    billing.submit(record(code, mid, plan="20"))
    assert billing.inquire(code) == record(code, mid, plan="20")
    suspended = replace(record(code, mid, plan="20"), line_state="suspended")
    billing.submit(suspended)  # a line's suspension: its record sent again
    assert [r for r in every_record(billing) if r.transaction_code == code] == [suspended]


def test_billing_deletes_a_record_once(billing):  # type: ignore[no-untyped-def]
    code = fresh_code()
    billing.submit(record(code, fresh_mid()))
    assert billing.delete(code) is True
    assert billing.delete(code) is False
    assert billing.inquire(code) is None


def test_a_retried_key_is_answered_once_and_forgotten_when_its_record_changes(billing):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid()
    first = record(code, mid)
    billing.submit(first, key=f"k-{code}")
    billing.submit(first, key=f"k-{code}")  # the retry of the same submission
    with pytest.raises(KeyReused):
        billing.submit(record(code, mid, plan="30"), key=f"k-{code}")
    assert billing.inquire(code) == first
    # Deleted, then the same record sent with the same key: stored anew, not answered
    # from the memory of a record billing no longer holds.
    billing.delete(code)
    billing.submit(first, key=f"k-{code}")
    assert billing.inquire(code) == first
    # Changed, then changed back (a plan change undone): the old key writes again.
    billing.submit(record(code, mid, plan="20"))
    billing.submit(first)
    assert billing.inquire(code) == first


def test_billing_lists_its_records_by_mid_a_page_at_a_time(billing):  # type: ignore[no-untyped-def]
    codes = [fresh_code() for _ in range(5)]
    mids = ["2815550003", "2815550001", "2815550002", "2815550001", "2125550009"]
    for code, mid in zip(codes, mids, strict=True):
        billing.submit(record(code, mid))
    first = billing.page(None, 2)
    assert len(first.records) == 2 and first.next_cursor is not None
    listed = list(every_record(billing, page_size=2))
    keys = [(r.mid, r.transaction_code) for r in listed]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    ours = [(r.mid, r.transaction_code) for r in listed if r.transaction_code in codes]
    assert ours == sorted(zip(mids, codes, strict=True))
    last = billing.page(f"{listed[-1].mid}.{listed[-1].transaction_code}", 2)
    assert last.records == () and last.next_cursor is None


def test_a_transaction_code_that_is_not_eight_digits_never_reaches_billing(billing):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        billing.inquire("../admin")
    with pytest.raises(ValueError):
        billing.submit(record("1234", "7135550001"))


# E911


def test_e911_registers_a_number_s_address_and_a_new_one_replaces_it(e911):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid("832555")
    assert e911.lookup(mid) is None
    e911.register(registration(code, mid), key=f"r-{code}")
    e911.register(registration(code, mid), key=f"r-{code}")  # a retry
    assert e911.lookup(mid) == registration(code, mid)
    moved = registration(code, mid, "400 Louisiana Street, Houston, Texas 77002")
    e911.register(moved, key=f"r2-{code}")
    assert e911.lookup(mid) == moved
    assert [r for r in e911.every(page_size=1) if r.mid == mid] == [moved]


def test_e911_refuses_an_address_911_calls_cannot_be_routed_to(e911):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid("832555")
    with pytest.raises(E911Refused):
        e911.register(registration(code, mid, "Main Street"), key=f"r-{code}")
    assert e911.lookup(mid) is None


def test_a_removal_takes_only_the_registration_of_its_own_transaction(e911):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid("832555")
    e911.register(registration(code, mid), key=f"r-{code}")
    assert e911.remove(mid, fresh_code(), key=f"x-{code}") is False  # another transaction's
    assert e911.lookup(mid) == registration(code, mid)
    assert e911.remove(mid, code, key=f"d-{code}") is True
    assert e911.remove(mid, code, key=f"d-{code}") is True  # its retry: the first answer
    assert e911.remove(mid, code, key=f"d2-{code}") is False  # a new removal: none held
    assert e911.lookup(mid) is None


def test_an_e911_key_sent_again_with_another_request_is_refused(e911):  # type: ignore[no-untyped-def]
    code, mid = fresh_code(), fresh_mid("832555")
    e911.register(registration(code, mid), key=f"r-{code}")
    with pytest.raises(KeyReused):
        e911.register(replace(registration(code, mid), customer_name="Rob"), key=f"r-{code}")
    assert e911.lookup(mid) == registration(code, mid)


# Credentials


def test_a_wrong_token_gets_no_answer_from_a_simulator_process(sims):  # type: ignore[no-untyped-def]
    wrong = HttpBilling(billing_client(sims["billing"].url, 5, token="not-the-token"))
    with pytest.raises(BillingUnavailable, match="401"):
        wrong.inquire("12345678")


def test_basic_credentials_are_checked_too(tmp_path):  # type: ignore[no-untyped-def]
    desk = BillingDesk(tmp_path, user="cas", password="s3cret")
    transport = InProcessTransport(desk)
    right = billing_client("http://b", 5, user="cas", password="s3cret", transport=transport)
    wrong = billing_client("http://b", 5, user="cas", password="guess", transport=transport)
    assert HttpBilling(right).inquire("12345678") is None
    with pytest.raises(BillingUnavailable, match="401"):
        HttpBilling(wrong).inquire("12345678")
