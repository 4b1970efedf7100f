"""The activation API: a customer activated by machine alone, through the same call flow."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy import select

from activation.service_layer.staff import ApiKey, ApiSession, add_api_key
from activation.store.models import Activity, Call, Escalation, Transaction

from ..flow.test_activation import switch_holds


class Partner:
    """A partner's HTTP client of the API."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def create(self, **body: Any) -> requests.Response:
        return self.http.post(f"{self.base}/api/transactions", json=body, timeout=15)

    def status(self, code: str) -> requests.Response:
        return self.http.get(f"{self.base}/api/transactions/{code}", timeout=15)

    def answer(self, code: str, value: str, **extra: Any) -> dict[str, Any]:
        reply = self.http.post(
            f"{self.base}/api/transactions/{code}/answers",
            json={"value": value, **extra},
            timeout=15,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def wait_past_hold(self, code: str, seconds: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            reply = self.status(code)
            assert reply.status_code == 200, reply.text
            body = reply.json()
            if body["state"] != "hold":
                return body
            assert body["retry_after"] >= 1
            assert time.monotonic() < deadline, f"still on hold at {body['step']}"
            time.sleep(0.1)


def test_a_customer_is_activated_through_the_api_alone(live, api_key, services, worker, switches):
    partner = Partner(live.url, api_key)
    reply = partner.create(agent="1001", pin="2468")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    code = body["transaction_code"]
    assert len(code) == 8 and body["status"] == "incomplete"
    assert (body["step"], body["state"]) == ("esn", "input")
    assert body["expects"]["kind"] == "digits" and body["expects"]["min_digits"] == 11

    body = partner.answer(code, "13803186457")
    assert body["step"] == "esn_confirm"
    assert body["read_back"] == {"field": "esn", "value": "13803186457"}
    assert body["messages"] == [{"code": "esn_confirm"}]
    body = partner.answer(code, "1")
    assert body["step"] == "kind"
    assert body["expects"]["choices"] == {
        "1": "individual customer",
        "2": "business customer",
        "0": "speak to a CSR",
    }
    assert partner.answer(code, "1")["step"] == "ssn"
    body = partner.answer(code, "123456789")
    assert body["step"] == "ssn_confirm" and body["values"]["ssn_last4"] == "6789"
    assert body["read_back"] == {"field": "ssn", "value": "***-**-6789"}
    assert "123456789" not in str(body) and "6 7 8 9" not in str(body)
    # Messages for a machine: codes, never speech ("press pound", "You entered").
    assert "pound" not in str(body) and "You entered" not in str(body)
    body = partner.answer(code, "1")
    assert (body["state"], body["step"]) == ("hold", "credit_wait")

    body = partner.wait_past_hold(code)
    assert body["step"] == "name_confirm"
    assert body["values"]["customer_name"] == "Jane Q Public"
    assert partner.answer(code, "1")["step"] == "rate_plan"
    body = partner.answer(code, "10")
    assert body["step"] == "plan_confirm"
    assert body["read_back"] == {
        "field": "rate_plan",
        "value": "10",
        "name": "Basic",
        "monthly_cents": 1900,
    }
    assert partner.answer(code, "1")["step"] == "npa_nxx"
    assert partner.answer(code, "713555")["step"] == "npa_confirm"
    body = partner.answer(code, "1")
    assert body["state"] == "hold" and body["status"] == "assigning"

    body = partner.wait_past_hold(code)
    assert (body["step"], body["status"]) == ("mid", "active")
    mid = body["mid"]
    assert mid.startswith("713555") and len(mid) == 10
    body = partner.answer(code, "2")
    assert body["state"] == "ended"

    with services.db.transaction() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.status, tx.mid, tx.esn) == ("active", mid, "13803186457")
        assert tx.rate_plan_code == "10"
        call = session.scalar(select(Call).where(Call.transaction_id == tx.id))
        assert call.direction == "api"
    held = switch_holds(services, "HOU1", mid)
    assert held is not None and held.esn == "13803186457"
    # The finished transaction reads the same afterwards.
    again = partner.status(code).json()
    assert (again["status"], again["mid"], again["state"]) == ("active", mid, "ended")


def test_bad_entries_follow_the_call_rules_and_zero_reaches_a_csr(live, api_key, services):
    partner = Partner(live.url, api_key)
    code = partner.create(agent="1001", pin="2468").json()["transaction_code"]
    body = partner.answer(code, "99999999999")  # manufacturer code above 255
    assert body["step"] == "esn" and body["state"] == "input"
    assert body["messages"][:2] == [{"code": "invalid"}, {"code": "esn_wrong"}]
    body = partner.answer(code, "0")
    assert body["state"] == "escalated"
    assert body["escalation_reason"] == "ESN: agent asked for a CSR"
    with services.db.transaction() as session:
        esc = session.scalar(select(Escalation))
        assert (esc.step, esc.reason, esc.state) == ("esn", "ESN: agent asked for a CSR", "open")
        assert esc.transaction.code == code and esc.transaction.status == "escalated"
    reply = partner.http.post(
        f"{live.url}/api/transactions/{code}/answers", json={"value": "1"}, timeout=15
    )
    assert reply.status_code == 409


def test_a_repeated_answer_with_its_seq_changes_nothing_twice(live, api_key):
    partner = Partner(live.url, api_key)
    first = partner.create(agent="1001", pin="2468").json()
    code, seq = first["transaction_code"], first["seq"]
    once = partner.answer(code, "13803186457", seq=seq)
    twice = partner.answer(code, "13803186457", seq=seq)
    assert once["step"] == twice["step"] == "esn_confirm"
    assert once["messages"] == twice["messages"] == [{"code": "esn_confirm"}]
    assert once["seq"] == twice["seq"] == seq + 1


def test_keys_are_checked_and_partners_see_only_their_own(live, api_key, services):
    partner = Partner(live.url, api_key)
    code = partner.create(agent="1001", pin="2468").json()["transaction_code"]

    anonymous = requests.get(f"{live.url}/api/transactions/{code}", timeout=15)
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["WWW-Authenticate"]
    forged = Partner(live.url, api_key[:-2] + ("AA" if not api_key.endswith("AA") else "BB"))
    assert forged.status(code).status_code == 401

    with services.db.transaction() as session:
        other_key = add_api_key(session, "rival")
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert api_key not in stored and other_key not in stored  # only hashes are kept
    rival = Partner(live.url, other_key)
    assert rival.status(code).status_code == 404
    reply = rival.http.post(
        f"{live.url}/api/transactions/{code}/answers", json={"value": "1"}, timeout=15
    )
    assert reply.status_code == 404


def test_log_on_is_refused_as_on_the_phone(live, api_key, services):
    partner = Partner(live.url, api_key)
    assert partner.create(agent="1001", pin="1111").status_code == 403
    locked = partner.create(agent="1003", pin="9999")
    assert locked.status_code == 403 and "locked" in locked.json()["error"]
    assert partner.create(agent="1001").status_code == 422
    assert partner.create(agent="1001", pin="2468", code="00000000").status_code == 404
    reply = partner.http.post(f"{live.url}/api/transactions", data="agent=1001", timeout=15)
    assert reply.status_code == 415
    with services.db.transaction() as session:
        assert session.scalar(select(ApiSession.transaction_id).limit(1)) is None


def test_an_incomplete_transaction_is_resumed_by_its_code(live, api_key):
    partner = Partner(live.url, api_key)
    code = partner.create(agent="1001", pin="2468").json()["transaction_code"]
    partner.answer(code, "13803186457")
    partner.answer(code, "1")
    reply = partner.create(agent="1001", pin="2468", code=code)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["transaction_code"], body["step"]) == (code, "kind")
    other_agent = partner.create(agent="1002", pin="1357", code=code)
    assert other_agent.status_code == 404


@pytest.fixture
def api_schema(live):  # type: ignore[no-untyped-def]
    """The OpenAPI document as the running app serves it."""
    schemathesis = pytest.importorskip("schemathesis")
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")


def test_the_openapi_document_holds_for_any_generated_input(api_schema, live, api_key):
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    partner = Partner(live.url, api_key)
    headers = {"Authorization": f"Bearer {api_key}"}
    sent: list[tuple[str, str, str]] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=25,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:  # type: ignore[no-untyped-def]
                path_code = (case.path_parameters or {}).get("code")
                if isinstance(path_code, str) and path_code.isdigit() and len(path_code) == 8:
                    # A code the partner owns, fresh each time, so the value reaches the flow.
                    reply = partner.create(agent="1001", pin="2468")
                    case.path_parameters["code"] = reply.json()["transaction_code"]
                if case.path == "/api/orders" and case.method == "POST":
                    # Each order carries its own Idempotency-Key, as a partner's would.
                    case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}
                response = case.call(base_url=live.url, headers=headers, timeout=15)
                assert response.status_code < 500, (case.method, case.path, response.text)
                # An order's values are checked as the call checks them (an ESN's check digit,
                # an SSN's area), a delivery's handsets against where they are: rules a schema
                # cannot say, refused with 422 and the reason.
                checked = ("/api/orders", "/api/inventory/deliveries")
                semantic = [positive_data_acceptance] if case.path in checked else []
                case.validate_response(response, headers=headers, excluded_checks=semantic)
                sent.append((case.method, case.path, str(response.status_code)))

            check()
    assert len(sent) >= 120
    answered = {status for method, path, status in sent if path.endswith("/answers")}
    assert {"200", "422"} <= answered
    assert ("POST", "/api/transactions", "403") in sent  # random agents do not log on


def test_a_delayed_assignment_reads_as_complete_once_it_is(
    live, api_key, services, worker, switches
):
    services.settings = dataclasses.replace(services.settings, switch_deadline=2)
    partner = Partner(live.url, api_key)
    code = partner.create(agent="1001", pin="2468").json()["transaction_code"]
    for value in ("13803186457", "1", "1", "123456789", "1"):
        partner.answer(code, value)
    partner.wait_past_hold(code)
    for value in ("1", "10", "1", "713555"):
        partner.answer(code, value)
    switches["HOU1"].control("silent 60")
    partner.answer(code, "1")
    body = partner.wait_past_hold(code)
    assert (body["step"], body["status"]) == ("delayed", "delayed")
    switches["HOU1"].control("clear")
    with services.db.transaction() as session:  # no need to wait out the back-off
        for activity in session.scalars(select(Activity).where(Activity.state == "pending")):
            activity.next_try_at = activity.created_at
    deadline = time.monotonic() + 60
    while (body := partner.status(code).json())["status"] != "active":
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert (body["step"], body["state"]) == ("mid", "input")
    assert body["mid"] and {"code": "mid"} in body["messages"]
    assert body["read_back"] == {"field": "mid", "value": body["mid"]}
    assert {"code": "delayed"} not in body["messages"]
