"""The inventory pages: stock against minimums, re-orders, deliveries, and sales by period.

A CSR reads them; a supervisor (or admin) ships handsets and receives deliveries; an admin
adds products.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from activation.inventory.deliveries import Item
from activation.service_layer import inventory, inventory_report, products
from activation.service_layer.inventory import DeliveryRefused, ShipmentRefused
from activation.service_layer.products import ProductRefused
from activation.store.models import utcnow
from ivr.console import charts
from ivr.console.auth import requires, services

CHART_DAYS = 14
MOST_ESNS = 500  # one shipment from the form


def _day(raw: str, default: date) -> date | None:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


@requires("csr")
def stock_page() -> Any:
    """Stock per agent and product against minimums, open re-orders, deliveries to receive."""
    lines = inventory.stock_lines(services())
    chosen = request.args.get("chart", "")
    pairs = [f"{line.agent_code}/{line.product_code}" for line in lines]
    if chosen not in pairs:
        chosen = next((p for p, line in zip(pairs, lines, strict=True) if line.short), "")
        chosen = chosen or (pairs[0] if pairs else "")
    chart = None
    if chosen:
        agent_code, product = chosen.split("/", 1)
        today = utcnow().date()
        series = inventory_report.stock_over_time(
            services(), agent_code, product, CHART_DAYS, today
        )
        chart = charts.columns(series, f"Stock of {product} at agent {agent_code}, by day")
    return render_template(
        "console/inventory.html",
        lines=lines,
        reorders=inventory_report.open_reorders(services()),
        deliveries=inventory.deliveries_in_transit(services()),
        pairs=pairs,
        chosen=chosen,
        chart=chart,
        products=products.product_rows(services()),
    )


@requires("admin")
def add_product() -> Any:
    """Add a product headquarters stocks."""
    form = request.form
    try:
        added = products.add_product(
            services(),
            form.get("code", "")[:20],
            form.get("model", "")[:60],
            form.get("kind", "")[:30],
            g.user.name,
        )
    except ProductRefused as refused:
        flash(f"No product added: {refused}", "error")
    else:
        flash(f"Product {added.code} added: {added.model} ({added.kind}).", "ok")
    return redirect(url_for("console.inventory"))


@requires("supervisor")
def ship() -> Any:
    """Ship handsets from headquarters to an agent."""
    agent = request.form.get("agent", "").strip()[:8]
    product = request.form.get("product", "").strip()[:12] or None
    esns = request.form.get("esns", "").replace(",", " ").split()
    if not agent or not esns or len(esns) > MOST_ESNS:
        flash(f"Give the agent and 1 to {MOST_ESNS} ESNs.", "error")
        return redirect(url_for("console.inventory"))
    try:
        shipped = inventory.ship(
            services(), agent, [Item(e[:20], product) for e in esns], g.user.name, "console"
        )
    except ShipmentRefused as refused:
        flash(f"Nothing shipped: {refused}", "error")
    else:
        flash(
            f"Delivery {shipped.delivery_id}: {shipped.count} handsets in transit to agent "
            f"{shipped.agent_code}.",
            "ok",
        )
    return redirect(url_for("console.inventory"))


@requires("supervisor")
def receive(delivery_id: int) -> Any:
    """Receive a delivery into its agent's stock."""
    try:
        count = inventory.receive(services(), delivery_id, g.user.name)
    except DeliveryRefused as refused:
        flash(f"Not received: {refused}.", "error")
    else:
        flash(f"Delivery {delivery_id} received: {count} handsets in stock.", "ok")
    return redirect(url_for("console.inventory"))


@requires("csr")
def sales() -> Any:
    """Activations per agent and per salesperson over a period; CSV with format=csv."""
    today = utcnow().date()
    start = _day(request.args.get("from", ""), today - timedelta(days=29))
    end = _day(request.args.get("to", ""), today)
    if start is None or end is None or start > end:
        flash("A period is two dates (YYYY-MM-DD), the first not after the second.", "error")
        start, end = today - timedelta(days=29), today
    rows = inventory_report.sales(services(), start, end)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["agent", "agent_name", "salesperson", "salesperson_name", "activations"])
        for row in rows:
            writer.writerow(
                [
                    row.agent_code,
                    row.agent_name,
                    row.salesperson_code,
                    row.salesperson_name,
                    row.activations,
                ]
            )
        name = f"activations-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    per_agent: dict[str, int] = {}
    for row in rows:
        per_agent[row.agent_code] = per_agent.get(row.agent_code, 0) + row.activations
    chart = charts.bars(sorted(per_agent.items()), "Activations per agent")
    return render_template(
        "console/sales.html",
        rows=rows,
        start=start,
        end=end,
        chart=chart,
        total=sum(per_agent.values()),
    )


def register(bp: Blueprint) -> None:
    """Add the inventory pages to the console."""
    bp.add_url_rule("/inventory", "inventory", stock_page, methods=["GET"])
    bp.add_url_rule("/inventory/ship", "inventory_ship", ship, methods=["POST"])
    bp.add_url_rule("/inventory/products", "inventory_add_product", add_product, methods=["POST"])
    bp.add_url_rule(
        "/inventory/deliveries/<id:delivery_id>/receive",
        "inventory_receive",
        receive,
        methods=["POST"],
    )
    bp.add_url_rule("/inventory/sales", "inventory_sales", sales, methods=["GET"])
