"""A party's answer beyond its protocol's bounds is a garbled answer, never a row CAS cannot keep.

What CAS keeps of a bureau's report or a billing record has the protocol's bounds (a name of
120 characters, a score of 0 to 999, an eight-digit transaction code): on PostgreSQL a longer
value would fail the credit check's or the nightly comparison's write, so the adapter refuses
it as it refuses a missing field, and the work waits with a reason a person can read.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from activation.parties.billing import HttpBilling, billing_client
from activation.parties.bureau import HttpBureau, bureau_client
from activation.parties.ports import BillingUnavailable, BureauUnavailable, CreditReport

REPORT = {"name": "Jane Q Public", "address": "12 Main Street, Houston, Texas", "score": 780}
RECORD = {
    "transaction_code": "12345678",
    "mid": "7135550001",
    "esn": "13803186457",
    "rate_plan": "10",
    "customer_name": "Jane Q Public",
    "customer_address": "12 Main Street, Houston, Texas",
    "deposit_cents": 0,
    "deposit_method": "",
    "line_state": "active",
}


def answering(body: Any) -> httpx.MockTransport:
    """A party that answers every request with this JSON body."""
    return httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
    )


def bureau(body: Any) -> HttpBureau:
    return HttpBureau(bureau_client("http://bureau.test", 2.0, transport=answering(body)))


def billing(body: Any) -> HttpBilling:
    return HttpBilling(billing_client("http://billing.test", 2.0, transport=answering(body)))


def test_a_report_within_the_bounds_is_read() -> None:
    longest = {**REPORT, "name": "N" * 120, "address": "A" * 200, "score": 999}
    assert bureau(longest).report("individual", "123456789") == CreditReport(
        "N" * 120, "A" * 200, 999
    )


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("name", "N" * 121, "name is longer than 120 characters"),
        ("address", "A" * 201, "address is longer than 200 characters"),
        ("score", 1000, "score is not between 0 and 999"),
        ("score", -1, "score is not between 0 and 999"),
        ("score", 2**40, "score is not between 0 and 999"),
    ],
)
def test_a_report_beyond_the_bounds_is_garbled(field: str, value: Any, said: str) -> None:
    with pytest.raises(BureauUnavailable, match="garbled") as refused:
        bureau({**REPORT, field: value}).report("individual", "123456789")
    assert said in str(refused.value)


def test_a_billing_page_with_a_record_beyond_the_protocol_is_garbled() -> None:
    page = {"records": [RECORD], "next_cursor": None}
    assert [r.transaction_code for r in billing(page).page().records] == ["12345678"]
    for field, value in (("transaction_code", "123456789"), ("mid", "713555000")):
        wrong = {"records": [{**RECORD, field: value}], "next_cursor": None}
        with pytest.raises(BillingUnavailable, match="garbled") as refused:
            billing(wrong).page()
        assert f"{field} is not of the pattern" in str(refused.value)
