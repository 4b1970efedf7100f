"""Welcome letters: what they say, on line after billing, and the nightly batch."""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

from sqlalchemy import select

from activation.followup import letters
from activation.followup.letter_pdf import render
from activation.jobs.worker import Worker
from activation.store.followup import WelcomeLetter
from activation.store.models import Activity, Transaction

from .conftest import active_transaction


def _text(pdf: bytes) -> str:
    """Return the text a PDF shows, from its (possibly deflated) content streams."""
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            stream = zlib.decompress(stream)
        except zlib.error:
            pass
        shown += re.findall(rb"\((.*?)\)\s*Tj", stream)
    return " ".join(
        part.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for part in shown
    )


def test_the_letter_says_what_was_bought_what_to_check_and_who_sold_it(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, "80000001", "7135550001", plan="20")
        content = letters.content_for(session, tx, services)
    text = _text(render(content, compress=False))
    for words in (
        "Dear Jane Q Public",
        "Your new number is (713) 555-0001",
        "Economy (plan 20), $29.00 a month",
        "Voice mail",
        "Call waiting",
        "12 Main Street, Houston, Texas 77002",
        "***-**-6789",
        "Pat Seller (agent 1001)",
        "13803186457",
        "None required",
        "May 4, 2026",
    ):
        assert words in text, words
    # Call forwarding is the one feature the customer does not have: suggested, with its plan.
    assert "You might also like" in text and "Call forwarding" in text
    assert "Discount plan (plan 30, $39.00 a month)" in text
    assert "123456789" not in text


def test_a_business_customer_with_a_deposit_reads_so(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        tx = active_transaction(session, "80000002", "7135550002", plan="30")
        tx.customer_kind, tx.deposit_cents, tx.deposit_method = "business", 20000, "check"
        content = letters.content_for(session, tx, services)
    text = _text(render(content))
    assert "Business tax ID" in text and "**-***6789" in text
    assert "$200.00, paid by check" in text
    assert "You might also like" not in text  # plan 30 has every feature there is


def test_on_line_letters_follow_billing_and_skip_a_denied_mid(services):  # type: ignore[no-untyped-def]
    from activation.lifecycle.assignment import queue_billing as enqueue_billing

    services.settings = replace(services.settings, letters_online=True)
    with services.db.transaction() as session:
        kept = active_transaction(session, "80000003", "7135550003")
        denied = active_transaction(session, "80000004", "7135550004", esn="13803186458")
        enqueue_billing(session, kept)
        enqueue_billing(session, denied)
    worker = Worker(services, "w")
    assert worker.run_once() and worker.run_once()  # both billing records
    with services.db.transaction() as session:
        session.scalars(
            select(Transaction).where(Transaction.code == "80000004")
        ).one().status = "denied"
    assert worker.drain() == 2
    assert not worker.run_once()
    with services.db.transaction() as session:
        results = session.scalars(
            select(Activity.result).where(Activity.type == "welcome_letter").order_by(Activity.id)
        ).all()
        assert [r["outcome"] for r in results] == ["written", "skipped"]
        [letter] = session.scalars(select(WelcomeLetter)).all()
        assert (letter.produced_by, letter.path) == ("online", "letters/80000003.pdf")
    pdf = (services.settings.data_dir / "letters" / "80000003.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-32:]
    assert letters.run_batch(services) == 0  # nothing left for the night


def test_the_nightly_batch_writes_each_missing_letter_once(services):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        for i in range(1, 4):
            active_transaction(session, f"8100000{i}", f"713555000{i}", esn=f"1380318645{i}")
    assert letters.run_batch(services) == 3
    assert letters.run_batch(services) == 0
    written = sorted(p.name for p in (services.settings.data_dir / "letters").iterdir())
    assert written == ["81000001.pdf", "81000002.pdf", "81000003.pdf"]
    with services.db.transaction() as session:
        assert {w.produced_by for w in session.scalars(select(WelcomeLetter))} == {"batch"}
