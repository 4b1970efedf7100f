"""The activity queue: what waits or failed; a supervisor retries or removes, with a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from activation.activities import activity_types
from activation.models import Activity, Transaction

from . import actions, present
from .auth import requires, services

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
        with services().db.sessions() as session:
            rows = session.execute(query).all()
            return render_template(
                "console/queue.html",
                rows=rows,
                state=state,
                kind=kind,
                states=STATES,
                types=sorted(activity_types()),
                when=present.when,
            )

    def _change(activity_id: int, change: Any, done: str) -> Any:
        reason = request.form.get("reason", "").strip()[:150]
        try:
            with services().db.transaction() as session:
                activity = session.get(Activity, activity_id, with_for_update=True)
                if activity is None:
                    abort(404, description=f"No activity {activity_id}.")
                change(session, activity, reason, g.user.name)
        except actions.Refused as refused:
            flash(str(refused), "error")
        else:
            flash(f"Activity {activity_id} {done}.", "ok")
        return redirect(url_for("console.queue"))

    @bp.post("/queue/<int:activity_id>/retry")
    @requires("supervisor")
    def retry(activity_id: int) -> Any:
        """Make an activity due now, with the reason in the audit log."""
        return _change(activity_id, actions.retry_activity, "will be retried now")

    @bp.post("/queue/<int:activity_id>/remove")
    @requires("supervisor")
    def remove(activity_id: int) -> Any:
        """Take an activity out of the queue, with the reason in the audit log."""
        return _change(activity_id, actions.remove_activity, "removed")
