"""Escalations: the calls that reached a CSR, and the actions that finish their transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from activation.service_layer import comparison_desk, csr
from activation.store.models import (
    Escalation,
    NpaNxxBlock,
    RatePlan,
    Switch,
    TelephoneNumber,
    Transaction,
)
from ivr.console import forms, present
from ivr.console.auth import local_path, requires, services


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
    """Return what the action forms of a transaction offer: each only when it can work now."""
    return {
        "fields": csr.CORRECTABLE,
        "blocks": served_blocks(session),
        "plans": list(session.scalars(select(RatePlan).where(RatePlan.active.is_(True)))),
        "can_act": csr.can_act(tx.status),
        "unsettled": csr.unsettled(tx),
        "bureau_named": bool(tx.ssn_encrypted and tx.bureau_name),
    }


def detail_without_transaction(esc: Escalation) -> str:
    """Say in words what an escalation without a transaction is about."""
    if esc.kind == "comparison":
        return (
            "The nightly comparison found this on its own; no call or transaction of CAS "
            "holds the number. Check the switch's line against CAS's records."
        )
    if esc.agent_id is None:
        return "The caller had not logged on: no agent and no transaction yet."
    return "The agent had logged on but had not started a transaction."


def _back(code: str) -> Any:
    target = local_path(request.form.get("back", ""))
    if target is not None:
        return redirect(target)
    return redirect(url_for("console.transaction", code=code))


def _act(code: str, act: Callable[[], str]) -> Any:
    """Run one CSR use case and tell its outcome on the next page."""
    try:
        message = act()
    except csr.NotFound as missing:
        abort(404, description=str(missing))
    except csr.Refused as refused:
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
        with services().db.read() as session:
            rows = open_escalations(session, show_all)
            return render_template(
                "console/escalations.html", rows=rows, show_all=show_all, when=present.when
            )

    @bp.get("/escalations/rows")
    @requires("csr")
    def escalation_rows() -> Any:
        """Return the rows of the open list, for the page to refresh itself."""
        with services().db.read() as session:
            rows = open_escalations(session, request.args.get("all") == "1")
            return render_template("console/_escalation_rows.html", rows=rows, when=present.when)

    @bp.get("/escalations/<id:esc_id>")
    @requires("csr")
    def escalation(esc_id: int) -> Any:
        """Show an escalation with its transaction's values and what can be done."""
        with services().db.read() as session:
            esc = session.get(Escalation, esc_id)
            if esc is None:
                abort(404, description=f"No escalation {esc_id}.")
            tx = esc.transaction
            extra = (
                action_context(session, tx)
                if tx is not None
                else {"detail": detail_without_transaction(esc)}
            )
            finding = comparison_desk.finding_of(session, esc)
            if finding is not None:
                extra["finding"] = finding
                extra["offer"] = comparison_desk.offer(session, esc, finding)
            return render_template(
                "console/escalation.html",
                esc=esc,
                tx=tx,
                values=present.values(tx) if tx is not None else [],
                when=present.when,
                **extra,
            )

    @bp.post("/escalations/<id:esc_id>/close")
    @requires("csr")
    def close_escalation(esc_id: int) -> Any:
        """Take an escalation off the list without changing its transaction."""
        note = request.form.get("note", "").strip()[:150] or "handled"
        try:
            flash(csr.close_escalation(services(), esc_id, note, g.user.name), "ok")
        except csr.NotFound as missing:
            abort(404, description=str(missing))
        except csr.Refused as refused:
            flash(str(refused), "error")
        return redirect(url_for("console.escalations"))

    @bp.post("/escalations/<id:esc_id>/act")
    @requires("csr")
    def act_on_finding(esc_id: int) -> Any:
        """Queue the switch work that fits a comparison's finding."""
        action = request.form.get("action", "")[:20]
        try:
            flash(comparison_desk.act(services(), esc_id, action, g.user.name), "ok")
        except csr.NotFound as missing:
            abort(404, description=str(missing))
        except csr.Refused as refused:
            flash(str(refused), "error")
        return redirect(url_for("console.escalation", esc_id=esc_id))

    @bp.post("/transactions/<code>/correct")
    @requires("csr")
    def correct(code: str) -> Any:
        """Correct one value of a transaction."""
        field, value = request.form.get("field", ""), request.form.get("value", "")[:200]
        return _act(code, lambda: csr.correct_value(services(), code, field, value, g.user.name))

    @bp.post("/transactions/<code>/deposit")
    @requires("csr")
    def approve_deposit(code: str) -> Any:
        """Approve the credit with a deposit."""
        method = request.form.get("method", "")
        return _act(
            code,
            lambda: csr.approve_deposit(
                services(), code, forms.dollars("dollars", 1_000_000), method, g.user.name
            ),
        )

    @bp.post("/transactions/<code>/send")
    @requires("csr")
    def send(code: str) -> Any:
        """Reserve a number in the chosen NPA-NXX and send it to the switch."""
        npa_nxx = request.form.get("npa_nxx", "")
        return _act(code, lambda: csr.send_to_switch(services(), code, npa_nxx, g.user.name))

    @bp.post("/transactions/<code>/close")
    @requires("csr")
    def close(code: str) -> Any:
        """Close a transaction that will not be activated."""
        reason = request.form.get("reason", "")[:150]
        return _act(code, lambda: csr.close_transaction(services(), code, reason, g.user.name))
