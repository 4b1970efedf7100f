"""A line's page by its MID: the subscriber, the orders and their work; a CSR places orders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from activation.keyed import is_digits
from activation.lifecycle.orders import LineRefused
from activation.lifecycle.states import IN_SERVICE, TxStatus
from activation.service_layer import line_orders, line_page
from activation.store.models import Transaction
from ivr.console import present
from ivr.console.auth import requires, services

ORDER_LABELS = {
    "activate": "Activation",
    "change_esn": "Handset change",
    "change_plan": "Rate plan change",
    "suspend": "Suspension",
    "restore": "Restoration",
    "disconnect": "Disconnection",
}
SUSPEND_REASONS = {"lost": "lost", "stolen": "stolen", "non_payment": "non-payment"}
OLD_HANDSET = {"stock": "back to stock", "lost": "lost"}
# The form fields each order type takes; the others take none.
ORDER_FIELDS = {
    "change_esn": ("esn", "old_handset"),
    "change_plan": ("rate_plan",),
    "suspend": ("reason",),
}


def _digits(text: str, length: int) -> bool:
    return is_digits(text, length, length)


def _mid_or_404(mid: str) -> str:
    if not _digits(mid, 10):
        abort(404, description="A line is found by its ten-digit MID.")
    return mid


def line_url(tx: Transaction) -> str | None:
    """The page of the line a transaction became, if it became one."""
    if tx.status in IN_SERVICE and tx.mid:
        return url_for("console.line", mid=tx.mid)
    if tx.status == TxStatus.DISCONNECTED and tx.former_mid:
        return url_for("console.line", mid=tx.former_mid, code=tx.code)
    return None


def _sentence(refused: LineRefused) -> str:
    words = str(refused)
    return f"{words[:1].upper()}{words[1:]}."


def _not_placed(refused: LineRefused, mid: str) -> str:
    """Say in words why the line did not take the order."""
    if refused.kind == "in_flight":
        return f"Order {refused.other} is in flight on this line: place this one once it is done."
    if refused.kind == "no_line":
        return f"No line in service has the number {present.dashed(mid)}."
    if refused.kind == "retry":
        return f"{_sentence(refused)} Try again in a moment."
    return f"Not placed: {refused}."


def register(bp: Blueprint) -> None:
    """Add the line page and its order forms to the console."""
    bp.add_app_template_global(line_url, "line_url")
    bp.add_app_template_filter(present.dashed, "dashed")

    @bp.get("/lines/<mid>")
    @requires("csr")
    def line(mid: str) -> Any:
        """Show a line: subscriber, handset, plan, state, orders with their work, history."""
        _mid_or_404(mid)
        code = request.args.get("code", "")
        with services().db.read() as session:
            page = line_page.read(session, mid, code if _digits(code, 8) else None)
        if page is None:
            abort(404, description=f"No line has had the number {present.dashed(mid)}.")
        return render_template(
            "console/line.html",
            line=page,
            labels=ORDER_LABELS,
            reasons=SUSPEND_REASONS,
            old_handset=OLD_HANDSET,
            aging_days=services().settings.number_aging_days,
            money=present.money,
            when=present.when,
        )

    @bp.post("/lines/<mid>/orders")
    @requires("csr")
    def place_order(mid: str) -> Any:
        """Place an order on the line from the form of its type."""
        _mid_or_404(mid)
        type_ = request.form.get("type", "")[:12]
        params = {
            name: request.form.get(name, "").strip()[:20] for name in ORDER_FIELDS.get(type_, ())
        }
        try:
            placed = line_orders.place(
                services(), mid, type_, params, channel="console", placed_by=g.user.name
            )
        except LineRefused as refused:
            flash(_not_placed(refused, mid), "error")
            # The page's form shows what was typed again, so nothing is lost.
            return redirect(url_for("console.line", mid=mid, type=type_, **params))
        label = ORDER_LABELS.get(placed.type, placed.type)
        flash(f"Order {placed.code} placed ({label.lower()}); its work is on the queue.", "ok")
        return redirect(url_for("console.line", mid=mid))

    @bp.post("/lines/<mid>/orders/<code>/give-up")
    @requires("supervisor")
    def give_up_order(mid: str, code: str) -> Any:
        """End a held order with the reason; the line stays as the network left it."""
        _mid_or_404(mid)
        if not _digits(code, 8):
            abort(404, description=f"No order {code[:8]}.")
        reason = request.form.get("reason", "")[:150]
        try:
            flash(line_orders.give_up(services(), code, reason, g.user.name), "ok")
        except LineRefused as refused:
            flash(_sentence(refused), "error")
        return redirect(url_for("console.line", mid=mid))
