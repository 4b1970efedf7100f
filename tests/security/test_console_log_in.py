"""Console log-in: failures throttled with growing waits and locks that open by themselves;
sessions are rows that log-out, a new password, a new role or a lost log-in end at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from activation.service_layer import console_access
from activation.service_layer.console_access import LOCK_TIME, LogInRefused, log_in
from activation.store.models import AuditEntry, utcnow
from activation.store.staff import ConsoleSession, ConsoleUser

from ..console.conftest import csrf_of
from ..console.conftest import log_in as console_log_in


def _audited(services, new_status: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.new_status == new_status)))


def _guess(services, name, now, client="10.9.8.7", password="guess", device=None):  # type: ignore[no-untyped-def]
    try:
        log_in(services.db, name, password, client, device, now=now)
    except LogInRefused as refused:
        return refused.retry_after
    return "in"


def test_wrong_passwords_in_a_burst_are_throttled_and_never_deactivate(app, services, users):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    codes = [
        client.post(
            "/console/login", data={"name": "admin", "password": "guess", "csrf_token": token}
        ).status_code
        for _ in range(20)
    ]
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}
    refused = client.post(
        "/console/login", data={"name": "admin", "password": users["admin"], "csrf_token": token}
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    with services.db.read() as session:
        admin = session.scalar(select(ConsoleUser).where(ConsoleUser.name == "admin"))
        assert admin.active and admin.failed_logins == 3
    assert len([e for e in _audited(services, "refused") if e.entity_id == "admin"]) == 3


def test_waits_grow_to_a_lock_that_opens_by_itself(services, users):
    now, counted, waits = utcnow(), 0, []
    while counted < 10:
        wait = _guess(services, "admin", now)
        if wait is None:
            counted += 1  # a failure, counted and audited
        else:
            waits.append(wait)  # too soon: refused without a look at the password
            now += timedelta(seconds=wait)
    assert waits == [1, 2, 4, 8, 16, 32, 60]  # three free, then doubling, capped
    [lock] = _audited(services, "locked")
    assert lock.entity_id == "account:admin" and "10 failed log-ins" in lock.detail
    assert len(_audited(services, "refused")) == 10
    # Locked: the right password from a fresh browser waits out the lock...
    assert _guess(services, "admin", now, "10.1.1.1", users["admin"]) > 800
    # ...which opens by itself; then the right password gets in at once.
    after = now + LOCK_TIME
    assert _guess(services, "admin", after, "10.1.1.1", users["admin"]) == "in"
    with services.db.read() as session:
        assert session.scalar(select(ConsoleUser.active).where(ConsoleUser.name == "admin"))


def test_an_attack_elsewhere_does_not_lock_out_a_browser_that_logged_in_before(services, users):
    now = utcnow()
    for _ in range(40):  # someone guessing the admin's password, as fast as allowed
        wait = _guess(services, "admin", now, client=f"10.0.0.{_}")
        now += timedelta(seconds=wait or 1)
    assert _audited(services, "locked")
    # The admin's own browser, known by its device id, counts its failures by itself.
    assert _guess(services, "admin", now, "10.1.1.1", device="admins-laptop") is None
    assert _guess(services, "admin", now, "10.1.1.1", users["admin"], "admins-laptop") == "in"


def test_many_names_from_one_address_make_that_address_wait(services):
    now = utcnow()
    results = [_guess(services, f"user{n}", now) for n in range(12)]
    assert results[:10] == [None] * 10 and results[10] >= 1
    assert _guess(services, "user99", now, client="10.2.2.2") is None  # other addresses go on


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("cas_console").value


def _with_cookie(app, value: str):  # type: ignore[no-untyped-def]
    other = app.test_client()
    other.set_cookie("cas_console", value)
    return other


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    reply = client.get("/console/dashboard")
    assert reply.status_code in (200, 302)
    return reply.status_code == 200


def test_a_cookie_kept_from_before_log_out_opens_nothing(app, users, services):
    client = app.test_client()
    console_log_in(client, "csr", users["csr"])
    kept = _cookie(client)
    assert _logged_in(_with_cookie(app, kept))
    token = csrf_of(client.get("/console/dashboard").get_data(as_text=True))
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert not _logged_in(_with_cookie(app, kept))
    with services.db.read() as session:
        row = session.scalar(select(ConsoleSession))
        assert row.ended_why == "logged out" and row.token_hash not in kept


@pytest.mark.parametrize(
    ("change", "form"),
    [
        ("password", {}),
        ("role", {"role": "supervisor", "active": "1"}),
        ("log-in taken away", {"role": "csr"}),
    ],
)
def test_a_new_password_role_or_lost_log_in_ends_the_user_s_sessions(
    app, users, services, change, form
):
    csr = app.test_client()
    console_log_in(csr, "csr", users["csr"])
    second = app.test_client()
    console_log_in(second, "csr", users["csr"])
    admin = app.test_client()
    console_log_in(admin, "admin", users["admin"])
    token = csrf_of(admin.get("/console/admin/users").get_data(as_text=True))
    url = "/console/admin/users/csr" + ("/password" if change == "password" else "")
    assert admin.post(url, data={**form, "csrf_token": token}).status_code in (200, 302)
    assert not _logged_in(csr) and not _logged_in(second)
    assert _logged_in(admin)
    with services.db.read() as session:
        open_ones = select(func.count()).where(
            ConsoleSession.ended_at.is_(None), ConsoleSession.user_id != 3
        )
        assert session.scalar(open_ones.select_from(ConsoleSession)) == 0


def test_sessions_end_after_idling_and_after_their_whole_life(app, users, services):
    idle, old = app.test_client(), app.test_client()
    console_log_in(idle, "csr", users["csr"])
    console_log_in(old, "supervisor", users["supervisor"])
    with services.db.transaction() as session:
        rows = list(session.scalars(select(ConsoleSession).order_by(ConsoleSession.id)))
        quiet = console_access.IDLE + timedelta(minutes=1)
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == rows[0].id)
            .values(last_seen_at=utcnow() - quiet)
        )
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == rows[1].id)
            .values(created_at=utcnow() - console_access.ABSOLUTE - timedelta(minutes=1))
        )
    assert not _logged_in(idle) and not _logged_in(old)
    with services.db.read() as session:
        assert {r.ended_why for r in session.scalars(select(ConsoleSession))} == {"timed out"}


def test_the_list_refreshing_itself_does_not_keep_a_session_alive(app, users, services):
    client = app.test_client()
    console_log_in(client, "csr", users["csr"])
    earlier = utcnow() - timedelta(minutes=5)
    with services.db.transaction() as session:
        session.execute(update(ConsoleSession).values(last_seen_at=earlier))
    assert client.get("/console/escalations/rows").status_code == 200
    with services.db.read() as session:
        assert session.scalar(select(ConsoleSession.last_seen_at)) == earlier
    assert _logged_in(client)
    with services.db.read() as session:
        assert session.scalar(select(ConsoleSession.last_seen_at)) > earlier
