"""Console users page (admin): who may log in to the console, in which role; passwords once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from activation.service_layer import console_admin
from activation.service_layer.csr import NotFound
from activation.service_layer.staff import ROLES, ApiKey, ConsoleUser, Partner
from ivr.console import present
from ivr.console.auth import requires, services

T = TypeVar("T")


def _page(
    new_password: tuple[str, str] | None = None, new_key: tuple[str, str] | None = None
) -> Any:
    with services().db.read() as session:
        users = list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.name)))
        keys = list(
            session.scalars(select(ApiKey).join(ApiKey.partner).order_by(Partner.name, ApiKey.id))
        )
        return render_template(
            "console/users.html",
            users=users,
            keys=keys,
            roles=ROLES,
            new_password=new_password,
            new_key=new_key,
            when=present.when,
        )


def _attempt(change: Callable[[], T]) -> T | None:
    """Run one admin use case; a refusal (ValueError) is flashed and gives None."""
    try:
        return change()
    except NotFound as missing:
        abort(404, description=str(missing))
    except ValueError as refused:
        flash(str(refused).capitalize() + ".", "error")
        return None


def register(bp: Blueprint) -> None:
    """Add the console users page to the console."""

    @bp.get("/admin/users")
    @requires("admin")
    def users() -> Any:
        """List the console users."""
        return _page()

    @bp.post("/admin/users")
    @requires("admin")
    def add_console_user() -> Any:
        """Add a console user and show the password once (only its hash is kept)."""
        name, role = request.form.get("name", "").strip()[:41], request.form.get("role", "")
        password = _attempt(lambda: console_admin.create_user(services(), name, role, g.user.name))
        if password is None:
            return redirect(url_for("console.users"))
        return _page(new_password=(name, password))

    @bp.post("/admin/users/<name>/password")
    @requires("admin")
    def reset_user_password(name: str) -> Any:
        """Give a console user a new password, show it once, and give back a locked log-in."""
        password = _attempt(lambda: console_admin.reset_password(services(), name, g.user.name))
        if password is None:
            return redirect(url_for("console.users"))
        return _page(new_password=(name, password))

    @bp.post("/admin/users/<name>")
    @requires("admin")
    def change_console_user(name: str) -> Any:
        """Change a console user's role, or take the log-in away or give it back."""
        role, active = request.form.get("role", ""), request.form.get("active") == "1"
        changes = _attempt(
            lambda: console_admin.set_standing(services(), name, role, active, g.user.name)
        )
        if changes is not None:
            flash(f"{name}: {', '.join(changes) or 'nothing changed'}.", "ok")
        return redirect(url_for("console.users"))

    @bp.post("/admin/api-keys")
    @requires("admin")
    def add_partner_key() -> Any:
        """Issue an API key to a partner and show it once (only its hash is kept)."""
        partner = request.form.get("partner", "").strip()[:41]
        issued = _attempt(lambda: console_admin.issue_key(services(), partner, g.user.name))
        if issued is None:
            return redirect(url_for("console.users"))
        return _page(new_key=issued)

    @bp.post("/admin/api-keys/<prefix>/revoke")
    @requires("admin")
    def revoke_partner_key(prefix: str) -> Any:
        """Revoke a partner's API key: it stops working at once."""
        owner = _attempt(lambda: console_admin.revoke_key(services(), prefix[:16], g.user.name))
        if owner is not None:
            flash(f"API key {prefix} of {owner} revoked.", "ok")
        return redirect(url_for("console.users"))
