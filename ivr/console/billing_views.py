"""Billing records by hand (supervisor): insert, inquire and delete through the billing port."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from activation.keyed import is_digits, whole_number
from activation.parties.ports import BillingRecord, BillingUnavailable
from activation.store import audit
from activation.store.models import Transaction
from ivr.console.auth import requires, services

LABELS = {
    "transaction_code": "Transaction code",
    "mid": "MID",
    "esn": "ESN",
    "rate_plan": "Rate plan",
    "customer_name": "Customer name",
    "customer_address": "Customer address",
    "deposit_cents": "Deposit (cents)",
    "deposit_method": "Deposit method",
}


def _code(raw: str) -> str | None:
    code = raw.strip()
    return code if is_digits(code, 8, 8) else None


def _record_from_form() -> BillingRecord | str:
    values: dict[str, Any] = {}
    for f in fields(BillingRecord):
        values[f.name] = request.form.get(f.name, "").strip()[:200]
    if _code(values["transaction_code"]) is None:
        return "A transaction code has eight digits."
    if not is_digits(values["mid"], 10, 10):
        return "A MID has ten digits."
    deposit = whole_number(values["deposit_cents"] or "0", 0, 1_000_000)
    if deposit is None:
        return "The deposit is a whole number of cents, from 0 to 1,000,000."
    values["deposit_cents"] = deposit
    values["line_state"] = values["line_state"] or "active"
    if values["line_state"] not in ("active", "suspended", "disconnected"):
        return "A line's state is active, suspended or disconnected."
    return BillingRecord(**values)


def _audit(code: str, new: str, detail: str) -> None:
    with services().db.transaction() as session:
        audit.record(session, "billing", code, None, new, g.user.name, detail)


def register(bp: Blueprint) -> None:
    """Add the billing views to the console."""

    @bp.get("/billing")
    @requires("supervisor")
    def billing() -> Any:
        """Inquire a billing record by transaction code; offer insert and delete."""
        raw = request.args.get("code", "")
        code = _code(raw)
        record, draft, problem = None, None, ""
        if raw and code is None:
            problem = "A transaction code has eight digits."
        elif code:
            try:
                record = services().billing.inquire(code)
            except BillingUnavailable as exc:
                problem = f"Billing system unavailable: {exc}"
            with services().db.read() as session:
                tx = session.scalar(select(Transaction).where(Transaction.code == code))
                if tx is not None:
                    draft = {
                        "transaction_code": tx.code,
                        "mid": tx.mid or "",
                        "esn": tx.esn or "",
                        "rate_plan": tx.rate_plan_code or "",
                        "customer_name": tx.bureau_name or "",
                        "customer_address": tx.bureau_address or "",
                        "deposit_cents": tx.deposit_cents or 0,
                        "deposit_method": tx.deposit_method or "",
                    }
        return render_template(
            "console/billing.html",
            code=raw[:20],
            record=asdict(record) if record else None,
            draft=asdict(record) if record else (draft or {"transaction_code": code or ""}),
            labels=LABELS,
            problem=problem,
            searched=bool(raw),
        )

    @bp.post("/billing/insert")
    @requires("supervisor")
    def billing_insert() -> Any:
        """Send a billing record by hand (it replaces the transaction's record)."""
        record = _record_from_form()
        if isinstance(record, str):
            flash(record, "error")
            return redirect(url_for("console.billing"))
        try:
            services().billing.submit(record)
        except BillingUnavailable as exc:
            flash(f"Billing system unavailable: {exc}", "error")
        else:
            _audit(record.transaction_code, "inserted", f"by hand, MID {record.mid}")
            flash(f"Billing record for {record.transaction_code} inserted.", "ok")
        return redirect(url_for("console.billing", code=record.transaction_code))

    @bp.post("/billing/delete")
    @requires("supervisor")
    def billing_delete() -> Any:
        """Delete a billing record, with the reason in the audit log."""
        code = _code(request.form.get("transaction_code", ""))
        reason = request.form.get("reason", "").strip()[:150]
        if code is None or not reason:
            flash("Give the eight-digit transaction code and the reason.", "error")
            return redirect(url_for("console.billing"))
        try:
            existed = services().billing.delete(code)
        except BillingUnavailable as exc:
            flash(f"Billing system unavailable: {exc}", "error")
        else:
            if existed:
                _audit(code, "deleted", reason)
                flash(f"Billing record for {code} deleted.", "ok")
            else:
                flash(f"Billing holds no record for {code}.", "error")
        return redirect(url_for("console.billing", code=code))
