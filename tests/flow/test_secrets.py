"""No SSN or PIN in clear: not in a log line, not in a URL, not in any table."""

from __future__ import annotations

import logging

from .conftest import log_on
from .test_activation import new_transaction, through_credit

SSN, PIN = "123456789", "2468"


def test_a_whole_call_leaves_no_ssn_or_pin_in_logs_urls_or_tables(
    phone, services, worker, switches, caplog
):
    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    transport = phone.transport
    original = transport.post

    def recording_post(url, form, headers):  # type: ignore[no-untyped-def]
        urls.append(url)
        return original(url, form, headers)

    transport.post = recording_post  # type: ignore[method-assign]
    call = log_on(phone, "1001", PIN)
    new_transaction(call)
    through_credit(call, ssn=SSN)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    assert "The new number is" in call.last_prompt

    assert urls and not [u for u in urls if SSN in u or PIN in u]
    assert SSN not in caplog.text and "123-45-6789" not in caplog.text
    services.db.dispose()
    raw = b"".join(p.read_bytes() for p in services.settings.data_dir.glob("cas.sqlite3*"))
    assert SSN.encode() not in raw
