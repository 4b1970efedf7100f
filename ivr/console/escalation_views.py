"""Escalations: the calls that reached a CSR, and the actions that finish their transactions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from activation.models import (
    Escalation,
    NpaNxxBlock,
    RatePlan,
    Switch,
    TelephoneNumber,
    Transaction,
)

from . import actions, present
from .auth import requires, services


def open_escalations(session: Session, show_all: bool = False) -> list[Escalation]:
    """Return open escalations oldest first (or the latest 200 of any state)."""
    query = select(Escalation).options(joinedload(Escalation.transaction))
    if show_all:
        query = query.order_by(Escalation.id.desc()).limit(200)
    else:
        query = query.where(Escalation.state == "open").order_by(Escalation.id)
    return list(session.scalars(query))


def served_blocks(session: Session) -> list[tuple[str, str, int]]:
    """Return (NPA-NXX, switch, free numbers) for every block of an active switch."""
    rows = session.execute(
        select(NpaNxxBlock.npa_nxx, Switch.name, func.count(TelephoneNumber.mid))
        .join(Switch, Switch.id == NpaNxxBlock.switch_id)
        .outerjoin(
            TelephoneNumber,
            (TelephoneNumber.npa_nxx == NpaNxxBlock.npa_nxx) & (TelephoneNumber.status == "free"),
        )
        .where(Switch.active.is_(True))
        .group_by(NpaNxxBlock.npa_nxx, Switch.name)
        .order_by(NpaNxxBlock.npa_nxx)
    )
    return [(npa_nxx, switch, free) for npa_nxx, switch, free in rows]


def action_context(session: Session, tx: Transaction) -> dict[str, Any]:
    """Return what the action forms of a transaction offer."""
    return {
        "fields": actions.CORRECTABLE,
        "blocks": served_blocks(session),
        "plans": list(session.scalars(select(RatePlan).where(RatePlan.active.is_(True)))),
        "can_act": tx.status not in actions.FINISHED + actions.IN_FLIGHT,
    }


def _transaction(session: Session, code: str) -> Transaction:
    tx = session.scalar(select(Transaction).where(Transaction.code == code).with_for_update())
    if tx is None:
        abort(404, description=f"No transaction {code}.")
    return tx


def _back(code: str) -> Any:
    target = request.form.get("back", "")
    if target.startswith("/console/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("console.transaction", code=code))


def _act(code: str, act: Any) -> Any:
    try:
        with services().db.transaction() as session:
            message = act(session, _transaction(session, code))
    except actions.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(message, "ok")
    return _back(code)


def register(bp: Blueprint) -> None:
    """Add the escalation views and the transaction actions to the console."""

    @bp.get("/escalations")
    @requires("csr")
    def escalations() -> Any:
        """List the open escalations (all recent ones with ?all=1)."""
        show_all = request.args.get("all") == "1"
        with services().db.sessions() as session:
            rows = open_escalations(session, show_all)
            return render_template(
                "console/escalations.html", rows=rows, show_all=show_all, when=present.when
            )

    @bp.get("/escalations/rows")
    @requires("csr")
    def escalation_rows() -> Any:
        """Return the rows of the open list, for the page to refresh itself."""
        with services().db.sessions() as session:
            rows = open_escalations(session, request.args.get("all") == "1")
            return render_template("console/_escalation_rows.html", rows=rows, when=present.when)

    @bp.get("/escalations/<int:esc_id>")
    @requires("csr")
    def escalation(esc_id: int) -> Any:
        """Show an escalation with its transaction's values and what can be done."""
        with services().db.sessions() as session:
            esc = session.get(Escalation, esc_id)
            if esc is None:
                abort(404, description=f"No escalation {esc_id}.")
            tx = esc.transaction
            extra = action_context(session, tx) if tx is not None else {}
            return render_template(
                "console/escalation.html",
                esc=esc,
                tx=tx,
                values=present.values(tx) if tx is not None else [],
                when=present.when,
                **extra,
            )

    @bp.post("/escalations/<int:esc_id>/close")
    @requires("csr")
    def close_escalation(esc_id: int) -> Any:
        """Take an escalation off the list without changing its transaction."""
        note = request.form.get("note", "").strip()[:150] or "handled"
        try:
            with services().db.transaction() as session:
                esc = session.get(Escalation, esc_id)
                if esc is None:
                    abort(404, description=f"No escalation {esc_id}.")
                actions.close_escalation(session, esc, "closed", g.user.name, note)
        except actions.Refused as refused:
            flash(str(refused), "error")
        else:
            flash(f"Escalation {esc_id} closed.", "ok")
        return redirect(url_for("console.escalations"))

    @bp.post("/transactions/<code>/correct")
    @requires("csr")
    def correct(code: str) -> Any:
        """Correct one value of a transaction."""
        field, value = request.form.get("field", ""), request.form.get("value", "")[:200]

        def act(session: Session, tx: Transaction) -> str:
            actions.correct_value(session, services().vault, tx, field, value, g.user.name)
            return f"{actions.CORRECTABLE[field].label} corrected."

        return _act(code, act)

    @bp.post("/transactions/<code>/deposit")
    @requires("csr")
    def approve_deposit(code: str) -> Any:
        """Approve the credit with a deposit."""
        try:
            cents = round(float(request.form.get("dollars", "") or 0) * 100)
        except ValueError:
            cents = -1
        method = request.form.get("method", "")

        def act(session: Session, tx: Transaction) -> str:
            actions.approve_deposit(session, tx, cents, method, g.user.name)
            return f"Credit approved with a deposit of {present.money(cents)}."

        return _act(code, act)

    @bp.post("/transactions/<code>/send")
    @requires("csr")
    def send(code: str) -> Any:
        """Reserve a number in the chosen NPA-NXX and send it to the switch."""
        npa_nxx = request.form.get("npa_nxx", "").strip()

        def act(session: Session, tx: Transaction) -> str:
            mid = actions.send_to_switch(session, tx, npa_nxx, g.user.name)
            return f"MID {mid} reserved and queued for its switch."

        return _act(code, act)

    @bp.post("/transactions/<code>/close")
    @requires("csr")
    def close(code: str) -> Any:
        """Close a transaction that will not be activated."""
        reason = request.form.get("reason", "")[:150]

        def act(session: Session, tx: Transaction) -> str:
            actions.close_transaction(session, tx, reason, g.user.name)
            return f"Transaction {code} closed."

        return _act(code, act)
