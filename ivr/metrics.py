"""GET /metrics in Prometheus's text format, right under any number of gunicorn workers.

Counts and gauges are read from the database at scrape time, so every worker of every host
reports the same totals. Webhook latency lives in each process; with PROMETHEUS_MULTIPROC_DIR
set (before the process starts) prometheus-client's multiprocess mode sums the workers' files.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from activation.call.outcomes import Answer
from activation.lifecycle.escalations import KINDS
from activation.queue.activities import activity_types
from activation.services import Services
from activation.store.models import (
    Activity,
    ActivityAttempt,
    Escalation,
    Transaction,
)
from ivr.console import stats

from . import logging_json

bp = Blueprint("metrics", __name__)
# Blueprints whose POSTs are Twilio's webhooks, and labels for the ones that open a call.
WEBHOOKS = ("voice", "callback_voice")
LABELS = {"voice.incoming": "start", "callback_voice.answered": "callback_start"}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Activations, escalations, queue depth, switch errors and findings, from the database."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        """Read every database-derived metric in one short transaction."""
        with self.services.db.read() as session:
            families = [
                *activations(session),
                *escalations(session),
                queue_depth(session),
                switch_errors(session),
            ]
            findings = stats.latest_findings(session)
        yield from families
        gauge = GaugeMetricFamily(
            "cas_comparison_findings",
            "Findings of the last telephone-number comparison, by switch and kind.",
            labels=["switch", "kind"],
        )
        for (switch, kind), count in sorted(findings.items()):
            gauge.add_metric([switch, kind], count)
        yield gauge


def activations(session: Session) -> Iterator[Metric]:
    """Count transactions made active, once each, by switch (from the audit log: it only
    grows, so the counter never goes back)."""
    counter = CounterMetricFamily(
        "cas_activations", "Transactions whose MID became active on a switch.", labels=["switch"]
    )
    activated = stats.became_active()
    rows = session.execute(
        select(Transaction.switch_name, func.count())
        .select_from(activated)
        .join(Transaction, Transaction.code == activated.c.code)
        .group_by(Transaction.switch_name)
    )
    for switch, count in rows:
        counter.add_metric([switch or ""], count)
    yield counter


def escalations(session: Session) -> Iterator[Metric]:
    """Count escalations ever opened and those still open, by kind (zeros included).

    The kind, not the reason: a reason may quote an ESN or a switch's answer, and a label
    taking such values would make a new series of every one.
    """
    total = CounterMetricFamily(
        "cas_escalations", "Calls and transactions handed to a CSR.", labels=["kind"]
    )
    still_open = GaugeMetricFamily(
        "cas_escalations_open", "Escalations no CSR has finished yet.", labels=["kind"]
    )
    counts = {kind: (0, 0) for kind in KINDS}
    rows = session.execute(
        select(
            Escalation.kind,
            func.count(),
            func.sum(case((Escalation.state == "open", 1), else_=0)),
        ).group_by(Escalation.kind)
    )
    for kind, count, opened in rows:
        key = kind if kind in counts else "other"
        done, still = counts[key]
        counts[key] = (done + count, still + (opened or 0))
    for kind, (count, opened) in counts.items():
        total.add_metric([kind], count)
        still_open.add_metric([kind], opened)
    yield total
    yield still_open


def queue_depth(session: Session) -> Metric:
    """Gauge the activities waiting, running or failed, by type and state (zeros included)."""
    depth = {(kind, state): 0 for kind in activity_types() for state in stats.QUEUE_STATES}
    for kind, state, count in stats.queue_depth(session):
        depth[(kind, state)] = count
    gauge = GaugeMetricFamily(
        "cas_queue_depth", "Activities in the queue, by type and state.", labels=["type", "state"]
    )
    for (kind, state), count in sorted(depth.items()):
        gauge.add_metric([kind, state], count)
    return gauge


def switch_errors(session: Session) -> Metric:
    """Count switch insert attempts that failed or were denied, by switch."""
    counter = CounterMetricFamily(
        "cas_switch_errors", "Switch insert attempts that failed or were denied.", labels=["switch"]
    )
    rows = session.execute(
        select(ActivityAttempt.target, func.count())
        .join(Activity, Activity.id == ActivityAttempt.activity_id)
        .where(
            Activity.type == "switch_insert",
            ActivityAttempt.outcome.in_(("retry", "failed", "lost"))
            | ActivityAttempt.answer.contains("denied"),
        )
        .group_by(ActivityAttempt.target)
    )
    for switch, count in rows:
        counter.add_metric([switch], count)
    return counter


def init_app(app: Flask, services: Services) -> None:
    """Time every webhook by the step it answered, and serve /metrics."""
    multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    registry = CollectorRegistry()
    latency = Histogram(
        "cas_webhook_seconds",
        "Time to answer a Twilio webhook, by the call's step when it came.",
        ["step"],
        buckets=LATENCY_BUCKETS,
        registry=None if multiprocess else registry,
    )
    if multiprocess:
        MultiProcessCollector(registry)
    registry.register(DatabaseCollector(services))
    app.extensions["cas.metrics"] = registry

    @app.before_request
    def _start_clock() -> None:
        logging_json.bind_transaction(None)
        if request.blueprint not in WEBHOOKS or request.method != "POST":
            return
        g.cas_started = time.perf_counter()
        endpoint = request.endpoint or ""
        g.cas_step = LABELS.get(endpoint, endpoint.rsplit(".", 1)[-1])

    @app.after_request
    def _stop_clock(response: Response) -> Response:
        started = g.get("cas_started")
        if started is not None:
            latency.labels(step=g.cas_step).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(bp)


def _bears(token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def observe(answer: Answer) -> None:
    """Label the webhook being timed with the step it answered, and its log lines with the
    transaction: the call flow knows both, so no extra look-up is needed."""
    if answer.step:
        g.cas_step = answer.step
    logging_json.bind_transaction(answer.transaction_code)


@bp.get("/metrics")
def metrics() -> Response:
    """Expose every metric in Prometheus's text format (to the bearer of CAS_METRICS_TOKEN)."""
    token = current_app.extensions["cas"].settings.metrics_token
    if token and not _bears(token):
        return Response(
            "a bearer token is needed: Authorization: Bearer <CAS_METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="cas-metrics"'},
        )
    registry: CollectorRegistry = current_app.extensions["cas.metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE)
