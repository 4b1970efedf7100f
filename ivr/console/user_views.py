"""Console users page (admin): who may log in to the console, in which role; passwords once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.staff import (
    ROLES,
    ApiKey,
    ConsoleUser,
    add_api_key,
    add_user,
    change_user,
    revoke_api_key,
)

from . import present
from .auth import requires, services


def _user(session: Session, name: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name).with_for_update())
    if user is None:
        abort(404, description=f"No console user {name}.")
    return user


def _page(
    new_password: tuple[str, str] | None = None, new_key: tuple[str, str] | None = None
) -> Any:
    with services().db.sessions() as session:
        users = list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.name)))
        keys = list(session.scalars(select(ApiKey).order_by(ApiKey.partner, ApiKey.id)))
        return render_template(
            "console/users.html",
            users=users,
            keys=keys,
            roles=ROLES,
            new_password=new_password,
            new_key=new_key,
            when=present.when,
        )


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
        role = request.form.get("role", "")
        try:
            with services().db.transaction() as session:
                if session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name)):
                    raise ValueError(f"there is a user {name} already: reset the password")
                password = add_user(session, name, role, actor=g.user.name)
        except ValueError as refused:
            flash(str(refused).capitalize() + ".", "error")
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

    @bp.post("/admin/api-keys")
    @requires("admin")
    def add_partner_key() -> Any:
        """Issue an API key to a partner and show it once (only its hash is kept)."""
        partner = request.form.get("partner", "").strip()[:41]
        try:
            with services().db.transaction() as session:
                key = add_api_key(session, partner, actor=g.user.name)
        except ValueError as refused:
            flash(str(refused).capitalize() + ".", "error")
            return redirect(url_for("console.users"))
        return _page(new_key=(partner, key))

    @bp.post("/admin/api-keys/<prefix>/revoke")
    @requires("admin")
    def revoke_partner_key(prefix: str) -> Any:
        """Revoke a partner's API key: it stops working at once."""
        try:
            with services().db.transaction() as session:
                row = revoke_api_key(session, prefix[:16], actor=g.user.name)
                flash(f"API key {prefix} of {row.partner} revoked.", "ok")
        except ValueError as refused:
            flash(str(refused).capitalize() + ".", "error")
        return redirect(url_for("console.users"))

    @bp.post("/admin/users/<name>")
    @requires("admin")
    def change_console_user(name: str) -> Any:
        """Change a console user's role, or take the log-in away or give it back."""
        try:
            with services().db.transaction() as session:
                changes = change_user(
                    session,
                    _user(session, name),
                    request.form.get("role", ""),
                    request.form.get("active") == "1",
                    g.user.name,
                )
        except ValueError as refused:
            flash(str(refused).capitalize() + ".", "error")
        else:
            message = f"{name}: {', '.join(changes)}." if changes else f"{name}: nothing changed."
            flash(message, "ok")
        return redirect(url_for("console.users"))
