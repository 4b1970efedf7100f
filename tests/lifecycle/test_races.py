"""Two sessions on one transaction at the NPA-NXX read-back: one number, the one heard.

A second call of the same agent (or a partner through the API, or a CSR in the console) takes
up a transaction that a first call holds at the NPA-NXX read-back; both confirm, one after the
other or at the same moment. Whoever comes second is refused by the state machine and hears
where the transaction stands; it never reserves. In the end the transaction holds one MID, on
the switch with its handset and in billing, and every party heard that MID. On SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from .conftest import (
    Api,
    Cas,
    Console,
    assert_one_number,
    resumed_at_npa_confirm,
    spoken_mid,
    to_npa_confirm,
    together,
    wait_until_settled,
)


def _phone_hears(cas: Cas, call, code: str) -> str | None:  # type: ignore[no-untyped-def]
    """The MID a caller ends up hearing, going on as an agent would (1: try again now)."""
    mid = spoken_mid(call.last_prompt)
    if mid is None:
        assert "waiting for the switch" in call.last_prompt or "delayed" in call.last_prompt
        wait_until_settled(cas, code)
        call.press("1")
        mid = spoken_mid(call.last_prompt)
    return mid


def test_phone_then_phone(cas: Cas):
    first, code = to_npa_confirm(cas.phone())
    second = resumed_at_npa_confirm(cas.phone(), code)
    first.press("1")
    heard_first = spoken_mid(first.last_prompt)
    heard = second.press("1")
    assert f"Transaction {' '.join(code)} is complete." in heard
    assert _phone_hears(cas, second, code) == heard_first
    assert assert_one_number(cas, code) == heard_first


def test_phone_and_phone_together(cas: Cas):
    first, code = to_npa_confirm(cas.phone())
    second = resumed_at_npa_confirm(cas.phone(), code)
    together(lambda: first.press("1"), lambda: second.press("1"))
    heard = {_phone_hears(cas, first, code), _phone_hears(cas, second, code)}
    assert heard == {assert_one_number(cas, code)}


def test_api_then_phone(cas: Cas):
    call, code = to_npa_confirm(cas.phone())
    api = Api(cas)
    api.resume(code)
    api.confirm(code)
    heard = call.press("1")
    assert "Transaction" in heard  # refused: told where the transaction stands
    mid = assert_one_number(cas, code)
    assert _phone_hears(cas, call, code) == mid and api.mid(code) == mid


def test_phone_and_api_together(cas: Cas):
    call, code = to_npa_confirm(cas.phone())
    api = Api(cas)
    api.resume(code)
    together(lambda: call.press("1"), lambda: api.confirm(code))
    mid = assert_one_number(cas, code)
    assert _phone_hears(cas, call, code) == mid and api.mid(code) == mid


def test_console_then_phone(cas: Cas):
    call, code = to_npa_confirm(cas.phone())
    console = Console(cas)
    assert "reserved and queued for its switch" in console.send(code)
    heard = call.press("1")
    assert "Transaction" in heard
    mid = assert_one_number(cas, code)
    assert _phone_hears(cas, call, code) == mid
    assert mid in console.page(code)


def test_phone_and_console_together(cas: Cas):
    call, code = to_npa_confirm(cas.phone())
    console = Console(cas)
    _, page = together(lambda: call.press("1"), lambda: console.send(code))
    assert "reserved and queued" in page or f"transaction {code} is" in page
    mid = assert_one_number(cas, code)
    assert _phone_hears(cas, call, code) == mid
    assert mid in console.page(code)
