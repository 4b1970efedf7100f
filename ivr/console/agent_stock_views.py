"""An agent's stock page (admin): the ESN-not-in-stock setting, minimums and re-order
quantities per product, and salespeople: added, restricted, given a new PIN (shown once),
their log-on taken away or given back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from activation.service_layer import agent_stock
from activation.service_layer.csr import NotFound, Refused
from activation.store.models import Agent
from ivr.console.auth import requires, services


def _page(code: str, new_pin: str = "", new_salesperson: str = "", pin_is_new: bool = False) -> Any:
    with services().db.read() as session:
        agent = session.scalar(select(Agent).where(Agent.agent_code == code))
        if agent is None:
            abort(404, description=f"No agent {code}.")
    return render_template(
        "console/agent_stock.html",
        agent=agent,
        levels=agent_stock.levels(services(), code),
        products=agent_stock.products(services()),
        salespeople=agent_stock.salespeople(services(), code),
        choices=agent_stock.UNSTOCKED_CHOICES,
        new_pin=new_pin,
        new_salesperson=new_salesperson,
        pin_is_new=pin_is_new,
    )


@requires("admin")
def stock_settings(code: str) -> Any:
    """Show the agent's stock settings and salespeople."""
    return _page(code[:8])


def _done(change: Any, code: str) -> Any:
    try:
        flash(change(), "ok")
    except NotFound as missing:
        abort(404, description=str(missing))
    except Refused as refused:
        flash(str(refused), "error")
    return redirect(url_for("console.agent_stock", code=code))


@requires("admin")
def set_unstocked(code: str) -> Any:
    """Say what a call does with an ESN not in the agent's stock."""
    choice = request.form.get("unstocked_esn", "")[:20]
    return _done(lambda: agent_stock.set_unstocked(services(), code, choice, g.user.name), code)


@requires("admin")
def set_level(code: str) -> Any:
    """Set a product's minimum and re-order quantity for the agent."""
    form = request.form
    product = form.get("product", "")[:12]
    minimum, quantity = form.get("minimum", "").strip()[:5], form.get("quantity", "").strip()[:5]
    return _done(
        lambda: agent_stock.set_level(services(), code, product, minimum, quantity, g.user.name),
        code,
    )


@requires("admin")
def add_salesperson(code: str) -> Any:
    """Add a salesperson under the agent and show the PIN once."""
    form = request.form
    salesperson = form.get("salesperson", "")[:8]
    try:
        pin = agent_stock.add_salesperson(
            services(),
            code,
            salesperson,
            form.get("name", "")[:80],
            form.get("pin", "")[:8],
            g.user.name,
        )
    except NotFound as missing:
        abort(404, description=str(missing))
    except Refused as refused:
        flash(str(refused), "error")
        return redirect(url_for("console.agent_stock", code=code))
    return _page(code, new_pin=pin, new_salesperson=salesperson.strip())


@requires("admin")
def set_restrictions(code: str, salesperson: str) -> Any:
    """Say which rate plans and NPA-NXX a salesperson may sell."""
    form = request.form
    plans, blocks = form.get("rate_plans", "")[:200], form.get("npa_nxx", "")[:200]
    return _done(
        lambda: agent_stock.set_restrictions(
            services(), code, salesperson[:8], plans, blocks, g.user.name
        ),
        code,
    )


@requires("admin")
def new_pin(code: str, salesperson: str) -> Any:
    """Give a salesperson a new PIN (which lifts a lock) and show it once."""
    try:
        pin = agent_stock.new_pin(
            services(), code, salesperson[:8], request.form.get("pin", "")[:8], g.user.name
        )
    except NotFound as missing:
        abort(404, description=str(missing))
    except Refused as refused:
        flash(str(refused), "error")
        return redirect(url_for("console.agent_stock", code=code))
    return _page(code, new_pin=pin, new_salesperson=salesperson[:8], pin_is_new=True)


@requires("admin")
def set_log_on(code: str, salesperson: str) -> Any:
    """Take a salesperson's log-on away, or give it back."""
    allowed = request.form.get("may_log_on") == "1"
    return _done(
        lambda: agent_stock.set_log_on(services(), code, salesperson[:8], allowed, g.user.name),
        code,
    )


def register(bp: Blueprint) -> None:
    """Add the agent's stock page to the console."""
    base = "/admin/agents/<code>/stock"
    bp.add_url_rule(base, "agent_stock", stock_settings, methods=["GET"])
    bp.add_url_rule(f"{base}/unstocked", "agent_unstocked", set_unstocked, methods=["POST"])
    bp.add_url_rule(f"{base}/level", "agent_stock_level", set_level, methods=["POST"])
    people = "/admin/agents/<code>/salespeople"
    bp.add_url_rule(people, "add_salesperson", add_salesperson, methods=["POST"])
    one = f"{people}/<salesperson>"
    rules = (
        ("restrictions", "salesperson_restrictions", set_restrictions),
        ("pin", "salesperson_pin", new_pin),
        ("log-on", "salesperson_log_on", set_log_on),
    )
    for path, endpoint, view in rules:
        bp.add_url_rule(f"{one}/{path}", endpoint, view, methods=["POST"])
