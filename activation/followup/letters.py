"""Welcome letters: one PDF per activated customer, on line after billing or in the nightly batch.

A letter is written once per transaction: the `welcome_letters` row says it exists. The
on-line path is a `welcome_letter` activity queued when billing has taken the record; the
nightly batch writes whatever is still missing (letters kept for the batch, or a failed one).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from activation.followup.letter_pdf import Feature, LetterContent, Suggestion, render
from activation.queue import activities
from activation.services import Services
from activation.store.followup import WelcomeLetter
from activation.store.models import Activity, RatePlan, Transaction, utcnow

log = logging.getLogger("cas.letters")

COMPANY = "CAS Cellular"
FEATURES = {
    "VM": (
        "Voice mail",
        "Callers can leave a message when you cannot answer; dial your own number to listen.",
    ),
    "CW": (
        "Call waiting",
        "A soft tone tells you another call is coming in while you talk; "
        "take it without hanging up.",
    ),
    "CF": ("Call forwarding", "Send your calls to another phone when you are away from yours."),
    "3W": ("Three-way calling", "Bring a third person into a call."),
    "CID": ("Caller ID", "See who is calling before you answer."),
}


def feature(code: str) -> Feature:
    """Return a feature code as a customer reads it."""
    name, description = FEATURES.get(code, (code, "Ask customer service what it offers."))
    return Feature(code, name, description)


def _codes(features: str) -> list[str]:
    return [code.strip() for code in features.split(",") if code.strip()]


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _spoken_mid(mid: str) -> str:
    return f"({mid[:3]}) {mid[3:6]}-{mid[6:]}" if len(mid) == 10 else mid


def _mask(last4: str, kind: str) -> str:
    return f"**-***{last4}" if kind == "business" else f"***-**-{last4}"


def content_for(session: Session, tx: Transaction, services: Services) -> LetterContent:
    """Gather what the letter of an active transaction says."""
    plans = session.scalars(select(RatePlan).where(RatePlan.active.is_(True))).all()
    plan = next((p for p in plans if p.code == tx.rate_plan_code), None)
    plan = plan or session.get(RatePlan, tx.rate_plan_code)
    owned = _codes(plan.features if plan else "")
    suggestions: dict[str, Suggestion] = {}
    for other in sorted(plans, key=lambda p: p.monthly_cents):
        for code in _codes(other.features):
            if code not in owned and code not in suggestions:
                suggestions[code] = Suggestion(
                    feature(code), other.name, other.code, _money(other.monthly_cents)
                )
    deposit = tx.deposit_cents or 0
    paid = f"{_money(deposit)}, paid by {tx.deposit_method}" if deposit else "None required"
    activated = tx.completed_at or utcnow()
    return LetterContent(
        company=COMPANY,
        date=f"{activated:%B} {activated.day}, {activated:%Y}",
        customer_name=tx.bureau_name or "Valued customer",
        customer_address=tx.bureau_address or "",
        customer_kind=tx.customer_kind or "individual",
        tax_id_masked=_mask(tx.ssn_last4 or "????", tx.customer_kind or ""),
        mid=_spoken_mid(tx.mid or ""),
        esn=tx.esn or "",
        plan_name=plan.name if plan else "",
        plan_code=tx.rate_plan_code or "",
        monthly=_money(plan.monthly_cents if plan else 0),
        features=tuple(feature(code) for code in owned),
        suggestions=tuple(suggestions.values()),
        deposit=paid,
        transaction_code=tx.code,
        activated_on=f"{activated:%B} {activated.day}, {activated:%Y}",
        agent_name=tx.agent.name,
        agent_code=tx.agent.agent_code,
        service_phone=services.settings.csr_number or "611 from your new phone",
    )


def letter_path(services: Services, code: str) -> Path:
    """Return where the letter of a transaction is written."""
    return services.settings.data_dir / "letters" / f"{code}.pdf"


def write(services: Services, content: LetterContent) -> str:
    """Render a letter to its file (atomically); return its path relative to the data dir."""
    path = letter_path(services, content.transaction_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(render(content))
    os.replace(tmp, path)
    return str(path.relative_to(services.settings.data_dir))


def record(session: Session, transaction_id: int, path: str, produced_by: str) -> None:
    """Note that a transaction's letter exists."""
    letter = session.get(WelcomeLetter, transaction_id) or WelcomeLetter(
        transaction_id=transaction_id
    )
    letter.path, letter.produced_by, letter.produced_at = path, produced_by, utcnow()
    session.add(letter)


def enqueue(session: Session, transaction_id: int) -> Activity | None:
    """Queue the on-line letter of a transaction, unless it is written or queued."""
    written = session.get(WelcomeLetter, transaction_id)
    queued = session.scalar(
        select(Activity.id).where(
            Activity.transaction_id == transaction_id,
            Activity.type == "welcome_letter",
            Activity.state.in_(("pending", "running")),
        )
    )
    if written is not None or queued is not None:
        return None
    return activities.enqueue(
        session, "welcome_letter", {}, target="letters", transaction_id=transaction_id
    )


class WelcomeLetterJob:
    """Write the letter of an activated customer (skipped once the MID was denied)."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        tx = session.get_one(Transaction, activity.transaction_id)
        if tx.status != "active" or not tx.mid:
            return None
        return content_for(session, tx, services)

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        if work is None:
            return {"outcome": "skipped"}
        return {"outcome": "written", "path": write(services, work)}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        if result["outcome"] == "written" and activity.transaction_id is not None:
            record(session, activity.transaction_id, result["path"], "online")


def run_batch(services: Services, limit: int = 10_000) -> int:
    """Write every letter still missing for an active transaction; return how many."""
    with services.db.transaction() as session:
        missing = session.scalars(
            select(Transaction.id)
            .where(
                Transaction.status == "active",
                Transaction.mid.is_not(None),
                ~exists().where(WelcomeLetter.transaction_id == Transaction.id),
                ~exists().where(
                    Activity.transaction_id == Transaction.id,
                    Activity.type == "welcome_letter",
                    Activity.state.in_(("pending", "running")),
                ),
            )
            .order_by(Transaction.id)
            .limit(limit)
        ).all()
    written = 0
    for transaction_id in missing:
        with services.db.transaction() as session:
            content = content_for(session, session.get_one(Transaction, transaction_id), services)
        path = write(services, content)
        with services.db.transaction() as session:
            record(session, transaction_id, path, "batch")
        written += 1
    log.info("welcome-letter batch: %d written", written)
    return written


class NoLetter(Exception):
    """The transaction named has no letter to write: unknown, or its number not active."""


def write_one(services: Services, code: str) -> Path:
    """Write the welcome letter of one active transaction now (again, if it exists)."""
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        if tx is None:
            raise NoLetter(f"no transaction {code}")
        if tx.status != "active" or not tx.mid:
            raise NoLetter(
                f"transaction {code} is {tx.status}: its letter is written once its number "
                "is active"
            )
        content = content_for(session, tx, services)
        transaction_id = tx.id
    path = write(services, content)
    with services.db.transaction() as session:
        record(session, transaction_id, path, "demand")
    return services.settings.data_dir / path
