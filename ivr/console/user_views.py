"""Console users page (admin): who may log in to the console, in which role; passwords once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.service_layer.staff import (
    ROLES,
    ApiKey,
    ConsoleUser,
    Partner,
    add_api_key,
    add_user,
    change_user,
    partner_name,
    revoke_api_key,
)
from ivr.console import present
from ivr.console.auth import requires, services

T = TypeVar("T")


def _user(session: Session, name: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name).with_for_update())
    if user is None:
        abort(404, description=f"No console user {name}.")
    return user


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


def _attempt(change: Callable[[Session], T]) -> T | None:
    """Run a change in a transaction; a refusal (ValueError) is flashed and gives None."""
    try:
        with services().db.transaction() as session:
            return change(session)
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
        name = request.form.get("name", "").strip()[:41]

        def add(session: Session) -> str:
            if session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name)):
                raise ValueError(f"there is a user {name} already: reset the password")
            return add_user(session, name, request.form.get("role", ""), actor=g.user.name)

        password = _attempt(add)
        if password is None:
            return redirect(url_for("console.users"))
        return _page(new_password=(name, password))

    @bp.post("/admin/users/<name>/password")
    @requires("admin")
    def reset_user_password(name: str) -> Any:
        """Give a console user a new password, show it once, and give back a locked log-in."""
        with services().db.transaction() as session:
            user = _user(session, name)
            password = add_user(session, user.name, user.role, actor=g.user.name)
        return _page(new_password=(name, password))

    @bp.post("/admin/users/<name>")
    @requires("admin")
    def change_console_user(name: str) -> Any:
        """Change a console user's role, or take the log-in away or give it back."""
        role, active = request.form.get("role", ""), request.form.get("active") == "1"
        changes = _attempt(
            lambda session: change_user(session, _user(session, name), role, active, g.user.name)
        )
        if changes is not None:
            flash(f"{name}: {', '.join(changes) or 'nothing changed'}.", "ok")
        return redirect(url_for("console.users"))

    @bp.post("/admin/api-keys")
    @requires("admin")
    def add_partner_key() -> Any:
        """Issue an API key to a partner and show it once (only its hash is kept)."""
        partner = request.form.get("partner", "").strip()[:41]
        key = _attempt(lambda session: add_api_key(session, partner, actor=g.user.name))
        if key is None:
            return redirect(url_for("console.users"))
        return _page(new_key=(partner_name(partner), key))

    @bp.post("/admin/api-keys/<prefix>/revoke")
    @requires("admin")
    def revoke_partner_key(prefix: str) -> Any:
        """Revoke a partner's API key: it stops working at once."""
        owner = _attempt(
            lambda session: revoke_api_key(session, prefix[:16], g.user.name).partner.name
        )
        if owner is not None:
            flash(f"API key {prefix} of {owner} revoked.", "ok")
        return redirect(url_for("console.users"))
