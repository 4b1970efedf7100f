"""Keyed values are ASCII digits and the phone's keys: other scripts' digits are refused cleanly.

str.isdigit() takes '²' and Bengali digits; int() then fails on some, and the switch on all.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from activation.store.models import Activity, TelephoneNumber, Transaction

from ..console.conftest import csrf_of, log_in
from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction
from .conftest import key_anything

SUPERSCRIPTS = "²" * 11
BENGALI_ESN = "১৩৮০৩১৮৬৪৫৭"  # 13803186457 in Bengali digits
ONE_SUPERSCRIPT = "1380318645²"


@pytest.mark.parametrize("esn", [SUPERSCRIPTS, BENGALI_ESN, ONE_SUPERSCRIPT, "13803186457٣"])
def test_an_esn_in_other_digits_is_asked_again_and_reserves_nothing(phone, services, esn):
    call = log_on(phone)
    new_transaction(call)
    heard = key_anything(call, esn)
    assert "not valid" in heard.lower() or "invalid" in heard.lower(), heard
    assert "E S N" in call.last_prompt and not call.ended
    with services.db.transaction() as session:
        assert session.scalar(select(Transaction.esn)) is None
        reserved = select(func.count()).where(TelephoneNumber.status != "free")
        assert session.scalar(reserved) == 0
        assert session.scalar(select(func.count()).select_from(Activity)) == 0


def test_other_digits_at_any_digit_prompt_are_a_bad_entry(phone):
    call = phone.dial(from_="+15005550006", to="+15005550000")
    heard = key_anything(call, "١٠٠١")  # 1001 in Arabic-Indic digits
    assert "not valid" in heard and "agent I D" in call.last_prompt
    call.press("1001#")
    heard = key_anything(call, "٢٤٦٨")
    assert "not valid" in heard and "PIN" in call.last_prompt
    assert not call.ended


def test_a_csr_correcting_an_esn_to_other_digits_is_told_why(app, services, users, phone):
    call = log_on(phone)
    code = new_transaction(call)
    call.press("0")  # to a CSR at the ESN step
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    token = csrf_of(client.get(f"/console/transactions/{code}").get_data(as_text=True))
    for value in (SUPERSCRIPTS, ONE_SUPERSCRIPT, BENGALI_ESN):
        reply = client.post(
            f"/console/transactions/{code}/correct",
            data={"field": "esn", "value": value, "csrf_token": token},
        )
        assert reply.status_code == 302, value
        page = client.get(reply.headers["Location"]).get_data(as_text=True)
        assert "ESN: not digits" in page, value
    with services.db.transaction() as session:
        assert session.scalar(select(Transaction.esn).where(Transaction.code == code)) is None


def test_the_api_refuses_values_in_other_digits(live, api_key):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {api_key}"
    base = f"{live.url}/api/transactions"
    refused = http.post(base, json={"agent": "١٠٠١", "pin": "2468"}, timeout=15)
    assert refused.status_code == 422 and "digits" in refused.json()["error"]
    assert http.post(base, json={"agent": "1001\n", "pin": "2468"}, timeout=15).status_code == 422
    code = http.post(base, json={"agent": "1001", "pin": "2468"}, timeout=15).json()[
        "transaction_code"
    ]
    for value in (BENGALI_ESN, SUPERSCRIPTS, "13803186457\n"):
        reply = http.post(f"{base}/{code}/answers", json={"value": value}, timeout=15)
        assert reply.status_code == 422, (value, reply.text)
    assert http.get(f"{base}/{code}%0A", timeout=15).status_code == 404
    assert http.get(f"{base}/{code}", timeout=15).json()["step"] == "esn"
