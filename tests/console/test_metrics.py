"""/metrics in Prometheus's text format: counted from the database, right across processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from activation.queue import activities
from ivr.softphone import FlaskTransport, HttpTransport, Softphone

from ..flow.conftest import log_on
from ..flow.test_activation import new_transaction, through_credit


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse an exposition into {(sample name, sorted labels): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_activations_escalations_queue_and_latency(app, services, worker, switches):
    phone = Softphone(FlaskTransport(app), "/voice", pause_scale=0.05)
    call = log_on(phone)
    new_transaction(call)
    through_credit(call)
    call.press("1")
    call.press("10#")
    call.press("1")  # the rate plan read back: right
    call.press("713555#")
    call.press("1")
    assert "The new number is" in call.last_prompt
    call.press("2")
    escalated = log_on(phone)
    new_transaction(escalated)
    escalated.press("0")
    with services.db.transaction() as session:
        activities.enqueue(session, "billing_record", {}, target="billing").state = "failed"

    reply = app.test_client().get("/metrics")
    assert reply.status_code == 200 and reply.content_type.startswith("text/plain")
    found = samples(reply.get_data(as_text=True))
    assert found[("cas_activations_total", (("switch", "HOU1"),))] == 1
    assert found[("cas_escalations_total", (("kind", "asked_for_csr"),))] == 1
    assert found[("cas_escalations_open", (("kind", "asked_for_csr"),))] == 1
    assert found[("cas_queue_depth", (("state", "failed"), ("type", "billing_record")))] == 1
    assert found[("cas_queue_depth", (("state", "pending"), ("type", "switch_insert")))] == 0
    # Every webhook is timed under the step it answered.
    for step in ("start", "agent_id", "pin", "menu", "esn", "npa_confirm", "assign_wait"):
        count = found[("cas_webhook_seconds_count", (("step", step),))]
        assert count >= 1, step
    assert found[("cas_webhook_seconds_count", (("step", "credit_wait"),))] >= 1


def test_switch_errors_are_counted_per_switch(app, services, worker, switches):
    switches["HOU2"].control("deny 1")
    phone = Softphone(FlaskTransport(app), "/voice", pause_scale=0.05)
    call = log_on(phone)
    new_transaction(call)
    through_credit(call, esn="13803186458")
    call.press("1")
    call.press("20#")
    call.press("1")  # the rate plan read back: right
    call.press("281555#")
    call.press("1")
    assert call.transfer is not None  # the switch refused: to a CSR
    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert found[("cas_switch_errors_total", (("switch", "HOU2"),))] >= 1
    assert ("cas_switch_errors_total", (("switch", "HOU1"),)) not in found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_gunicorn_workers_report_the_same_totals(settings, services, tmp_path):
    port = _free_port()
    prom_dir = tmp_path / "prometheus"
    prom_dir.mkdir()
    env = {
        **os.environ,
        "CAS_DATA_DIR": str(settings.data_dir),
        "CAS_SECRET_KEY": settings.secret_key,
        "PROMETHEUS_MULTIPROC_DIR": str(prom_dir),
        "CAS_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "ivr:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, server)
        phone = Softphone(HttpTransport(base), "/voice", pause_scale=0.05)
        calls = 6
        for _ in range(calls):
            log_on(phone).hang_up()
        with services.db.transaction() as session:
            activities.enqueue(session, "switch_insert", {}, target="HOU3")
        scrapes = [samples(requests.get(f"{base}/metrics", timeout=10).text) for _ in range(6)]
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    starts = {s[("cas_webhook_seconds_count", (("step", "start"),))] for s in scrapes}
    pins = {s[("cas_webhook_seconds_count", (("step", "pin"),))] for s in scrapes}
    # Whichever worker answers the scrape, it reports both workers' webhooks.
    assert starts == {calls} and pins == {calls}
    depth = {
        s[("cas_queue_depth", (("state", "pending"), ("type", "switch_insert")))] for s in scrapes
    }
    assert depth == {1}
    assert b"Traceback" not in errors


def _wait_up(base: str, server: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn did not come up")


def test_the_last_finished_comparison_is_counted_and_charted(app, services, users):
    from activation.store.comparison import ComparisonFinding, ComparisonRun

    from .conftest import log_in

    with services.db.transaction() as session:
        old = ComparisonRun(state="done", started_by="test")
        session.add(old)
        session.flush()
        session.add(ComparisonFinding(run_id=old.id, switch_name="HOU1", kind="esn_mismatch"))
        last = ComparisonRun(state="done", started_by="test")
        session.add(last)
        session.flush()
        for mid in ("7135550001", "7135550002"):
            session.add(
                ComparisonFinding(
                    run_id=last.id, switch_name="HOU2", kind="missing_on_switch", mid=mid
                )
            )
        running = ComparisonRun(state="running", started_by="test")
        session.add(running)
        session.flush()
        session.add(ComparisonFinding(run_id=running.id, switch_name="HOU3", kind="duplicate"))

    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    findings = {k: v for k, v in found.items() if k[0] == "cas_comparison_findings"}
    assert findings == {
        ("cas_comparison_findings", (("kind", "missing_on_switch"), ("switch", "HOU2"))): 2
    }
    client = app.test_client()
    log_in(client, "csr", users["csr"])
    page = client.get("/console/dashboard").get_data(as_text=True)
    assert "HOU2 missing on the switch" in page and "No comparison has been run yet." not in page
