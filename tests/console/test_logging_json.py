"""JSON log lines carry the transaction code and never an SSN or a PIN."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr import create_app, logging_json
from ivr.logging_json import redact
from ivr.softphone import FlaskTransport, Softphone

from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction


@pytest.mark.parametrize(
    "text",
    [
        "ssn 123456789 ok",
        "ssn 123-45-6789 ok",
        "You entered 1 2 3, 4 5, 6 7 8 9. If that is correct press 1.",
        "tax id 12.345.6789",
        '{"pin": "2468"}',
        "Digits=2468&CallSid=CA1",
        "PIN is 2468",
        "Authorization: Bearer cas_0a1b2c3d_abcdefghijklmnop",
    ],
)
def test_secrets_are_masked(text):
    masked = redact(text)
    assert "[redacted]" in masked and redact(masked) == masked
    assert not re.search(r"(?<!\d)(123|2468|6789|abcdefgh)(?!\d)", masked), masked


@pytest.mark.parametrize(
    "text",
    [
        "transaction 12345678 resumed",
        "MID 7135550001 on HOU1",
        "ESN 13803186457 and IMEI 490154203237518",
        "The new number is 7 1 3, 5 5 5, 0 0 0 1.",
    ],
)
def test_codes_mids_and_esns_stay_readable(text):
    assert redact(text) == text


@given(
    ssn=st.from_regex(r"[0-9]{9}", fullmatch=True),
    sep=st.sampled_from(["", "-", " ", ", ", "."]),
    before=st.sampled_from(["SSN ", "x ", "(", "entered: "]),
)
def test_any_nine_digit_tax_id_is_masked(ssn, sep, before):
    text = f"{before}{ssn[:3]}{sep}{ssn[3:5]}{sep}{ssn[5:]} end"
    assert "".join(ch for ch in redact(text) if ch.isdigit()) == ""


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Capture the root logger's lines as the JSON handler writes them."""
    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    stream = io.StringIO()
    logging_json.install(logging.DEBUG, stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in kept:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_call_logs_json_with_its_transaction_and_no_secret(services, json_log):
    app = create_app({"TESTING": True}, services=services)
    call = log_on(Softphone(FlaskTransport(app), "/voice", pause_scale=0.05))
    code = new_transaction(call)
    call.press("13803186457#")
    call.press("1")  # the handset read back: right
    call.press("1")
    call.press("123456789#")
    logging.getLogger("cas.test").warning("careless: ssn %s pin=%s", "123456789", "2468")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert len(lines) > 5
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    text = json_log.getvalue()
    assert "123456789" not in text and "6 7 8 9" not in text
    assert not re.search(r"(?<!\d)2468(?!\d)", text)
    assert any(line.get("tx") == code for line in lines)
    careless = [line for line in lines if line["logger"] == "cas.test"]
    assert careless[0]["message"] == "careless: ssn [redacted] pin=[redacted]"
