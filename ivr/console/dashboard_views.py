"""The dashboard: activations per hour, escalations by kind, queue depth, last comparison."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import func, select

from activation.lifecycle.states import TxStatus
from activation.store.models import Escalation, Transaction
from ivr.console import charts, present, stats
from ivr.console.auth import requires, services


def register(bp: Blueprint) -> None:
    """Add the dashboard to the console."""

    @bp.get("/")
    @requires("csr")
    def home() -> Any:
        """Send the user to the dashboard."""
        return redirect(url_for("console.dashboard"))

    @bp.get("/dashboard")
    @requires("csr")
    def dashboard() -> Any:
        """Show the charts of the day."""
        with services().db.read() as session:
            hours = stats.activations_per_hour(session)
            kinds = stats.escalations_by_kind(session)
            queue = stats.queue_depth(session)
            findings = stats.latest_findings(session)
            open_count = session.scalar(
                select(func.count()).select_from(Escalation).where(Escalation.state == "open")
            )
            abandoned = session.scalar(
                select(func.count())
                .select_from(Transaction)
                .where(Transaction.status == TxStatus.ABANDONED)
            )
        return render_template(
            "console/dashboard.html",
            activated=sum(n for _, n in hours),
            open_count=open_count or 0,
            abandoned=abandoned or 0,
            queued=sum(n for _, state, n in queue if state != "failed"),
            failed=sum(n for _, state, n in queue if state == "failed"),
            per_hour=charts.columns(
                [(f"{at:%H}h", n) for at, n in hours], "Activations per hour, last 24 hours (UTC)"
            ),
            by_reason=charts.bars(
                [(present.kind_words(kind), n) for kind, n in kinds],
                "Escalations by kind, last 7 days",
            ),
            queue_chart=charts.bars(
                [(f"{present.activity_words(kind)} {state}", n) for kind, state, n in queue],
                "Queue depth",
            ),
            findings_chart=charts.bars(
                [
                    (f"{switch} {present.finding_words(kind)}".strip(), n)
                    for (switch, kind), n in sorted(findings.items())
                ],
                "Last comparison's findings",
            )
            if findings
            else None,
        )
