"""Reference data pages (admin): agents, rate plans, switches with their blocks, deposit table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from activation.service_layer import reference
from activation.service_layer.csr import NotFound, Refused
from activation.store.models import Agent, DepositRule, RatePlan, Switch, TelephoneNumber
from ivr.console import forms, present
from ivr.console.auth import requires, services


def _do(change: Callable[[], str], back: str) -> Any:
    """Run one reference-data use case and tell its outcome on the next page."""
    try:
        message = change()
    except NotFound as missing:
        abort(404, description=str(missing))
    except Refused as refused:
        flash(str(refused), "error")
    else:
        flash(message, "ok")
    return redirect(back)


def register(bp: Blueprint) -> None:
    """Add the reference data pages to the console."""

    @bp.get("/admin/agents")
    @requires("admin")
    def agents() -> Any:
        """List the selling agents."""
        with services().db.read() as session:
            rows = list(session.scalars(select(Agent).order_by(Agent.agent_code)))
            return render_template("console/agents.html", agents=rows, when=present.when)

    @bp.post("/admin/agents")
    @requires("admin")
    def add_agent() -> Any:
        """Add a selling agent and show the PIN once."""
        form = request.form
        try:
            pin = reference.add_agent(
                services(),
                form.get("agent_code", "")[:8],
                form.get("name", "")[:80],
                form.get("pin", "")[:8],
                form.get("callback_number", "")[:20],
                g.user.name,
            )
        except Refused as refused:
            flash(str(refused), "error")
            return redirect(url_for("console.agents"))
        return _agent_page(form.get("agent_code", "").strip(), new_pin=pin)

    def _agent_page(code: str, new_pin: str = "") -> Any:
        with services().db.read() as session:
            agent = session.scalar(select(Agent).where(Agent.agent_code == code))
            if agent is None:
                abort(404, description=f"No agent {code}.")
            return render_template(
                "console/agent.html", agent=agent, new_pin=new_pin, when=present.when
            )

    @bp.get("/admin/agents/<code>")
    @requires("admin")
    def agent(code: str) -> Any:
        """Show one agent with unlock, PIN reset and restrictions."""
        return _agent_page(code)

    @bp.post("/admin/agents/<code>/unlock")
    @requires("admin")
    def unlock_agent(code: str) -> Any:
        """Unlock an agent."""
        back = url_for("console.agent", code=code)
        return _do(lambda: reference.unlock_agent(services(), code, g.user.name), back)

    @bp.post("/admin/agents/<code>/pin")
    @requires("admin")
    def reset_pin(code: str) -> Any:
        """Give an agent a new PIN and show it once (it is not kept in clear)."""
        try:
            pin = reference.reset_pin(
                services(), code, request.form.get("pin", "")[:8], g.user.name
            )
        except NotFound as missing:
            abort(404, description=str(missing))
        except Refused as refused:
            flash(str(refused), "error")
            return redirect(url_for("console.agent", code=code))
        return _agent_page(code, new_pin=pin)

    @bp.post("/admin/agents/<code>/restrictions")
    @requires("admin")
    def restrict_agent(code: str) -> Any:
        """Set which rate plans and NPA-NXX blocks an agent may sell."""
        plans, blocks = request.form.get("rate_plans", "")[:200], request.form.get("npa_nxx", "")
        return _do(
            lambda: reference.set_restrictions(services(), code, plans, blocks[:400], g.user.name),
            url_for("console.agent", code=code),
        )

    @bp.post("/admin/agents/<code>/language")
    @requires("admin")
    def agent_language(code: str) -> Any:
        """Set the language the agent's calls speak."""
        language = request.form.get("language", "")[:2]
        return _do(
            lambda: reference.set_language(services(), code, language, g.user.name),
            url_for("console.agent", code=code),
        )

    @bp.get("/admin/rate-plans")
    @requires("admin")
    def rate_plans() -> Any:
        """List the rate plans, each editable."""
        with services().db.read() as session:
            plans = list(session.scalars(select(RatePlan).order_by(RatePlan.code)))
            return render_template("console/rate_plans.html", plans=plans)

    @bp.post("/admin/rate-plans")
    @requires("admin")
    def save_rate_plan() -> Any:
        """Add or change a rate plan."""
        return _do(
            lambda: reference.save_rate_plan(
                services(),
                request.form.get("code", "")[:4],
                request.form.get("name", "")[:40],
                forms.dollars("monthly_dollars", 10_000_000),
                request.form.get("features", "")[:80],
                request.form.get("active") == "1",
                g.user.name,
            ),
            url_for("console.rate_plans"),
        )

    @bp.get("/admin/switches")
    @requires("admin")
    def switches() -> Any:
        """List the switches with their NPA-NXX blocks and numbers in use."""
        with services().db.read() as session:
            rows = list(
                session.scalars(
                    select(Switch).options(selectinload(Switch.blocks)).order_by(Switch.name)
                )
            )
            used = dict(
                session.execute(
                    select(TelephoneNumber.npa_nxx, func.count())
                    .where(TelephoneNumber.status != "free")
                    .group_by(TelephoneNumber.npa_nxx)
                ).all()
            )
            return render_template("console/switches.html", switches=rows, used=used)

    @bp.post("/admin/switches/<id:switch_id>")
    @requires("admin")
    def update_switch(switch_id: int) -> Any:
        """Change a switch's lines and whether it is in service."""
        return _do(
            lambda: reference.update_switch(
                services(),
                switch_id,
                request.form.get("primary_url", "")[:200],
                request.form.get("backup_url", "")[:200],
                request.form.get("active") == "1",
                g.user.name,
            ),
            url_for("console.switches"),
        )

    @bp.post("/admin/switches/<id:switch_id>/logon")
    @requires("admin")
    def switch_logon(switch_id: int) -> Any:
        """Change the name and secret CAS logs on to a switch with (the secret write-only)."""
        return _do(
            lambda: reference.set_switch_logon(
                services(),
                switch_id,
                request.form.get("logon_name", "")[:40],
                request.form.get("logon_secret", "")[:100],
                request.form.get("clear_secret") == "1",
                g.user.name,
            ),
            url_for("console.switches"),
        )

    @bp.post("/admin/switches/<id:switch_id>/blocks")
    @requires("admin")
    def add_block(switch_id: int) -> Any:
        """Give a switch a new NPA-NXX block."""
        return _do(
            lambda: reference.add_block(
                services(),
                switch_id,
                request.form.get("npa_nxx", "")[:6],
                forms.number("first_suffix", 0, 9999, default=1),
                forms.number("last_suffix", 0, 9999, default=9999),
                g.user.name,
            ),
            url_for("console.switches"),
        )

    @bp.post("/admin/blocks/<npa_nxx>/remove")
    @requires("admin")
    def remove_block(npa_nxx: str) -> Any:
        """Remove an unused NPA-NXX block."""
        return _do(
            lambda: reference.remove_block(services(), npa_nxx[:6], g.user.name),
            url_for("console.switches"),
        )

    @bp.get("/admin/deposits")
    @requires("admin")
    def deposits() -> Any:
        """Show the deposit table, each band editable."""
        with services().db.read() as session:
            rules = list(session.scalars(select(DepositRule).order_by(DepositRule.min_score)))
            return render_template("console/deposits.html", rules=rules)

    @bp.post("/admin/deposits")
    @requires("admin")
    def save_deposit() -> Any:
        """Add or change a band of the deposit table."""
        return _do(
            lambda: reference.save_deposit_rule(
                services(),
                forms.number("rule_id", 0, forms.LARGEST_ID, default=0) or None,
                forms.number("min_score", 0, 999),
                forms.number("max_score", 0, 999),
                request.form.get("decision", ""),
                forms.dollars("deposit_dollars", 1_000_000),
                g.user.name,
            ),
            url_for("console.deposits"),
        )

    @bp.post("/admin/deposits/<id:rule_id>/delete")
    @requires("admin")
    def delete_deposit(rule_id: int) -> Any:
        """Remove a band of the deposit table."""
        return _do(
            lambda: reference.delete_deposit_rule(services(), rule_id, g.user.name),
            url_for("console.deposits"),
        )
