"""The activity queue: what waits or failed; a supervisor retries or removes, with a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from activation.queue.activities import activity_types
from activation.service_layer import csr
from activation.store.models import Activity, Transaction, utcnow
from ivr.console import present
from ivr.console.auth import requires, services

STATES = ("pending", "running", "failed")


def register(bp: Blueprint) -> None:
    """Add the queue views to the console."""

    @bp.get("/queue")
    @requires("csr")
    def queue() -> Any:
        """List pending, running and failed activities (filter by state and type)."""
        state = request.args.get("state", "")
        kind = request.args.get("type", "")
        query = (
            select(Activity, Transaction.code)
            .outerjoin(Transaction, Transaction.id == Activity.transaction_id)
            .where(Activity.state.in_([state] if state in STATES else STATES))
            .order_by(Activity.next_try_at, Activity.id)
            .limit(500)
        )
        if kind:
            query = query.where(Activity.type == kind[:20])
        now = utcnow()
        with services().db.read() as session:
            rows = session.execute(query).all()
            return render_template(
                "console/queue.html",
                rows=rows,
                actions={
                    act.id: csr.activity_actions(act.state, act.next_try_at, now) for act, _ in rows
                },
                state=state,
                kind=kind,
                states=STATES,
                types=sorted(activity_types()),
                when=present.when,
            )

    def _change(activity_id: int, change: Any) -> Any:
        reason = request.form.get("reason", "").strip()[:150]
        try:
            flash(change(services(), activity_id, reason, g.user.name), "ok")
        except csr.NotFound as missing:
            abort(404, description=str(missing))
        except csr.Refused as refused:
            flash(str(refused), "error")
        return redirect(url_for("console.queue"))

    @bp.post("/queue/<id:activity_id>/retry")
    @requires("supervisor")
    def retry(activity_id: int) -> Any:
        """Make an activity due now, with the reason in the audit log."""
        return _change(activity_id, csr.retry_activity)

    @bp.post("/queue/<id:activity_id>/remove")
    @requires("supervisor")
    def remove(activity_id: int) -> Any:
        """Take an activity out of the queue, with the reason in the audit log."""
        return _change(activity_id, csr.remove_activity)
