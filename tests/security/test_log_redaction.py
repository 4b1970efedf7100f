"""Logs mask SSN-shaped values and secret fields, keep identifiers whole, gunicorn's included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from ivr.cli import gunicorn_args
from ivr.logging_json import redact

from ..console.test_metrics import _free_port, _wait_up

CALL_SID = "CA123456789abcdefabcdefabcdefabcde"  # a nine-digit run inside its hex


@pytest.mark.parametrize(
    "text",
    [
        f"call {CALL_SID} step esn -> Prompt",
        "session API987654321fedcba987654321fedcba answered",
        "transaction 12345678 resumed, MID 7135550001, ESN 13803186457",
        "IMEI 490154203237518 on HOU1",
    ],
)
def test_identifiers_are_left_whole(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ssn 123456789", "123456789"),
        ("GET /console/lookup?q=123-45-6789 HTTP/1.1", "6789"),
        ("GET /console/login?next=%2Fconsole%2Flookup%3Fq%3D123456789 HTTP/1.1", "123456789"),
        ("You entered 1 2 3, 4 5, 6 7 8 9.", "6 7 8 9"),
        ("csrf_token=Zm9vYmFy&name=admin", "Zm9vYmFy"),
        ("logon_secret: hunter2", "hunter2"),
        ("Cookie: cas_console=eyJzaWQiOiJ4In0.abc", "eyJzaWQi"),
    ],
)
def test_ssn_shaped_values_and_secret_fields_are_masked(text, secret):
    assert secret not in redact(text) and "[redacted]" in redact(text)


def test_gunicorn_s_access_log_goes_through_the_same_redaction(settings, services, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "CAS_DATA_DIR": str(settings.data_dir),
        "CAS_SECRET_KEY": settings.secret_key,
        "CAS_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, *gunicorn_args(f"127.0.0.1:{port}", 1)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, server)
        requests.get(f"{base}/console/lookup?by=esn&q=123-45-6789", timeout=10)
        requests.get(f"{base}/healthz?sid={CALL_SID}&token=s3cr3t", timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    logged = (out + err).decode()
    assert "/console/lookup" in logged and "/healthz" in logged
    assert "123-45-6789" not in logged and "s3cr3t" not in logged
    assert CALL_SID in logged
