"""An outside party's words of any length reach a CSR without losing the caller.

SQLite keeps a string of any length in a VARCHAR(80); PostgreSQL refuses it, so these run on
both engines.
"""

from __future__ import annotations

from sqlalchemy import select

from activation.lifecycle import states
from activation.lifecycle.escalations import escalate
from activation.store.models import REASON_LENGTH, Escalation, Transaction

from .conftest import AGENT_PHONE, CAS_NUMBER, ESN, Cas

# What an HTTP client library says when a partner's host is down: longer than the column.
LONG_ERROR = (
    "HTTPSConnectionPool(host='pvs.carrier.example', port=443): Max retries exceeded with url: "
    "/v1/handsets/13803186457 (Caused by NewConnectionError: Connection refused)"
)


class UnreachablePVS:
    def is_listed(self, esn: str) -> bool:
        raise ConnectionError(LONG_ERROR)


def test_a_pvs_failing_in_many_words_sends_the_caller_to_a_csr(cas: Cas) -> None:
    cas.services.pvs = UnreachablePVS()
    call = cas.phone().dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("1001#")
    call.press("2468#")
    heard = call.press("#")
    code = heard.split("transaction code is ")[1].split(".")[0].replace(" ", "")
    call.press("2")
    heard = call.press(ESN + "#")
    assert call.transfer is not None, heard
    assert "cannot be checked right now" in heard
    with cas.services.db.read() as session:
        tx = session.scalars(select(Transaction).where(Transaction.code == code)).one()
        reasons = list(
            session.scalars(select(Escalation.reason).where(Escalation.transaction_id == tx.id))
        )
        assert (tx.status, tx.esn) == ("escalated", ESN)
        assert tx.escalation_reason == reasons[0]
    assert reasons == [f"PVS did not answer: {f'ConnectionError: {LONG_ERROR}'[:120]}"]


def test_a_reason_longer_than_its_column_is_kept_cut_and_opened_once(cas: Cas) -> None:
    words = "the switch said: " + "NOT ACCEPTED, FAULT CODE 1043, " * 10
    with cas.services.db.transaction() as session:
        tx = states.begin(session, "55501234", 1, "test")
        for _ in range(2):  # the same reason again is the same escalation
            escalate(session, words, "npa_confirm", tx=tx, actor="worker", kind="switch")
            session.flush()
    with cas.services.db.read() as session:
        assert session.scalars(select(Escalation.reason)).all() == [words[:REASON_LENGTH]]
        stored = session.scalars(select(Transaction.escalation_reason)).one()
        assert stored == words[:REASON_LENGTH]
