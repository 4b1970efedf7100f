"""`cas demo` protects /metrics with a token it keeps in its data dir and prints."""

from __future__ import annotations

import re

import requests

from .demo_process import free_port


def test_the_demo_s_metrics_need_the_token_it_prints(start_demo, clone):
    port = free_port()
    demo = start_demo("--port", str(port))
    demo.wait_for("Metrics (Prometheus)")
    found = re.search(r"Authorization: Bearer (\S+)' (http://\S+/metrics)", demo.output)
    assert found, demo.output
    token, url = found.groups()
    assert (clone / "var" / "metrics.token").read_text().strip() == token
    assert requests.get(url, timeout=10).status_code == 401
    reply = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert reply.status_code == 200 and "cas_queue_depth" in reply.text
    assert demo.stop() == 0
