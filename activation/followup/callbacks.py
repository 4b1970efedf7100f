"""Call-backs: when a delayed activation completes, CAS calls the agent back with the MID.

A call-back is one activity: an attempt places the call through the telephony port and then
waits for the provider's final call status. `completed` with the agent logged on ends it;
busy, no-answer, failed (or an answer with nobody logging on) retry it with back-off; no
status at all within the report window counts as a failed attempt too (the call-back sweep).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from activation.inventory import sales
from activation.lifecycle import assignment, numbers, states
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import Move, TxStatus
from activation.queue import activities
from activation.services import Services
from activation.store.db import Database
from activation.store.followup import Callback
from activation.store.models import Activity, Switch, Transaction, utcnow

log = logging.getLogger("cas.callbacks")

# Where the web layer answers the call-back and takes its call status (ivr/callback_voice.py).
CALLBACK_PATH = "/voice/callback"
STATUS_PATH = "/voice/callback-status"
# Twilio's final call statuses; the others (queued, ringing, in-progress) only inform.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Time for the call to ring out, be talked through, and its status to arrive.
REPORT_WINDOW = timedelta(minutes=15)


class CallbackNotConfigured(Exception):
    """CAS has no public URL, so the provider could not fetch the call-back's TwiML."""


@dataclass(frozen=True)
class CallbackOrder:
    """What the telephony port needs to place one call-back."""

    to: str
    url: str
    status_callback: str


def request(session: Session, tx: Transaction) -> Activity | None:
    """Queue the call-back of a transaction whose MID is active, once per transaction."""
    queued = session.scalar(
        select(Activity.id).where(
            Activity.transaction_id == tx.id,
            Activity.type == "callback",
            Activity.state != "removed",
        )
    )
    if queued is not None:
        return None
    number = tx.agent.callback_number
    if not number:
        escalate(
            session, "call-back requested; agent has no number", "callback", tx=tx, kind="callback"
        )
        return None
    activity = activities.enqueue(
        session,
        "callback",
        {"transaction_code": tx.code, "to": number},
        target=number,
        transaction_id=tx.id,
    )
    states.note(session, tx, "worker", "call-back queued")
    return activity


class CallbackJob:
    """Place the call-back; the provider's call status later settles the attempt."""

    awaits_report: timedelta | None = REPORT_WINDOW

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        base = services.settings.public_url.rstrip("/")
        if not base:
            raise CallbackNotConfigured("CAS_PUBLIC_URL is not set")
        code = activity.payload["transaction_code"]
        return CallbackOrder(
            to=activity.payload["to"],
            url=f"{base}{CALLBACK_PATH}?tx={code}",
            status_callback=f"{base}{STATUS_PATH}",
        )

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        sid = services.telephony.place_call(work.to, work.url, work.status_callback)
        return {"outcome": "placed", "call_sid": sid}

    def failed(self, session: Session, activity: Activity, error: str) -> None:
        """Placing the call-back failed at every attempt (the provider refused it, or CAS
        does not know its public URL): the agent waits for a call, so a CSR makes it."""
        _to_csr(session, activity, f"call-back could not be placed: {error}")

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        session.add(
            Callback(
                activity_id=activity.id,
                transaction_id=activity.transaction_id,
                call_sid=result["call_sid"],
                to_number=activity.payload["to"],
                status="queued",
            )
        )


def call_status(db: Database, call_sid: str, status: str, now: datetime | None = None) -> str:
    """Take the provider's report on a call-back's call; return what became of it."""
    now = now or utcnow()
    with db.transaction() as session:
        callback = session.scalar(
            select(Callback).where(Callback.call_sid == call_sid).with_for_update()
        )
        if callback is None:
            return "unknown"
        callback.status, callback.updated_at = status[:12], now
        if status not in FINAL_STATUSES:
            return status
        activity = session.get_one(Activity, callback.activity_id, with_for_update=True)
        if activity.state != "waiting" or (activity.result or {}).get("call_sid") != call_sid:
            return "repeated"  # the same report twice, or one about an earlier attempt
        request_line = activities.request_line(activity)
        if status == "completed" and callback.outcome is not None:
            activities.finish(session, activity, {"outcome": callback.outcome}, now)
            answer = f"call completed, MID {callback.outcome}"
            activities.log_attempt(
                session, activity, callback.placed_at, "ok", request_line, answer, now
            )
            return "done"
        reason = "answered, nobody logged on" if status == "completed" else status
        return _retry(session, activity, f"call {reason}", callback.placed_at, now)


def _retry(
    session: Session, activity: Activity, error: str, started: datetime, now: datetime
) -> str:
    state = activities.reschedule(session, activity, error, now)
    outcome = "failed" if state == "failed" else "retry"
    request_line = activities.request_line(activity)
    activities.log_attempt(session, activity, started, outcome, request_line, error, now)
    if state == "failed":
        _to_csr(session, activity, "call-back never reached the agent")
    log.info("call-back %s: %s -> %s", activity.id, error, state)
    return state


def _to_csr(session: Session, activity: Activity, reason: str) -> None:
    """A call-back given up: the agent still waits for the call, so a CSR is to make it."""
    tx = session.get(Transaction, activity.transaction_id) if activity.transaction_id else None
    escalate(session, reason, "callback", tx=tx, actor="worker", kind="callback")


def sweep(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Retry call-backs whose status never came, and queue any a race left out."""
    now = now or utcnow()
    with db.transaction() as session:
        silent = session.scalars(
            select(Activity)
            .where(
                Activity.type == "callback",
                Activity.state == "waiting",
                Activity.lease_until < now,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for activity in silent:
            _retry(session, activity, "no call status reported", activity.lease_until or now, now)
        # The agent keyed 3 just as the insertion completed: the call-back was not queued.
        missed = session.scalars(
            select(Transaction).where(
                Transaction.status == TxStatus.ACTIVE,
                Transaction.callback_requested.is_(True),
                ~exists().where(
                    Activity.transaction_id == Transaction.id, Activity.type == "callback"
                ),
            )
        ).all()
        queued = sum(1 for tx in missed if request(session, tx) is not None)
    return {"retried": len(silent), "queued": queued}


def current(session: Session, tx: Transaction, call_sid: str) -> Callback | None:
    """Return the call-back this call is (by its call id, else the transaction's latest)."""
    by_sid = session.scalar(select(Callback).where(Callback.call_sid == call_sid))
    if by_sid is not None:
        return by_sid
    return session.scalar(
        select(Callback)
        .where(Callback.transaction_id == tx.id)
        .order_by(Callback.id.desc())
        .limit(1)
    )


def _mark(session: Session, tx: Transaction, call_sid: str, outcome: str) -> None:
    callback = current(session, tx, call_sid)
    if callback is not None:
        callback.outcome, callback.updated_at = outcome, utcnow()


def heard(session: Session, tx: Transaction, call_sid: str) -> None:
    """Note that the agent logged on and is hearing the MID."""
    _mark(session, tx, call_sid, "heard")


def accept(session: Session, tx: Transaction, call_sid: str, actor: str) -> None:
    """The agent accepts the MID: the activation stands."""
    _mark(session, tx, call_sid, "accepted")
    states.note(session, tx, actor, "MID accepted")


def deny(session: Session, tx: Transaction, call_sid: str, actor: str) -> str:
    """The agent denies the MID: take it off the switch and give it back; return the MID."""
    mid = tx.mid or ""
    states.move(session, tx, Move.DENY, actor, f"MID {mid} denied on call-back")
    _mark(session, tx, call_sid, "denied")
    if tx.esn:  # the customer never had it: back in the agent's stock to sell
        sales.put_back(session, tx, tx.esn, actor, f"MID {mid} denied on the call-back")
    # Out of stock until the switch has let it go, so no one else is given it meanwhile.
    numbers.set_number(session, mid, "blocked", tx.id)
    activities.enqueue(
        session,
        "billing_delete",
        {"transaction_code": tx.code},
        target="billing",
        transaction_id=tx.id,
    )
    assignment.queue_e911_removal(session, tx, mid)
    switch = session.scalar(select(Switch).where(Switch.name == tx.switch_name))
    if switch is None:
        escalate(
            session, "denied MID: switch unknown", "callback", tx=tx, actor=actor, kind="callback"
        )
        return mid
    activities.enqueue(
        session,
        "switch_delete",
        {"switch_id": switch.id, "mid": mid},
        target=switch.name,
        transaction_id=tx.id,
    )
    return mid
