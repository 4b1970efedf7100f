"""An API activation is a call without a voice: the same CallFlow, fed values instead of keys.

Each partner session is a Call row (direction "api") tied to the partner's key, so every rule
of the call (log-on, validation, two failures to a CSR, holds while the worker runs) applies
unchanged, and a CSR sees an API activation exactly as a phoned-in one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.call.engine import STEPS, CallFlow
from activation.call.outcomes import Answer, Hangup, Hold, Prompt, Transfer
from activation.lifecycle.states import TxStatus
from activation.service_layer.api_steps import expects
from activation.service_layer.staff import ApiKey, ApiSession
from activation.services import Services
from activation.store.models import Call, RatePlan, Transaction


class ApiRefused(Exception):
    """The request cannot go on; status is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Partner:
    """Who is calling the API: the key's id and the partner row it was issued to."""

    key_id: int
    partner_id: int
    name: str


class ApiFlow:
    """Opens, answers and reads partner sessions through the call flow."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.flow = CallFlow(services, direction="api")

    def open(
        self,
        partner: Partner,
        agent: str,
        pin: str,
        code: str | None,
        salesperson: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Log the agent on (and its salesperson, ID and PIN, when it has salespeople) and start
        a new transaction (or resume the one with this code)."""
        call_sid = "API" + uuid.uuid4().hex
        with self.services.db.transaction() as session:
            session.add(ApiSession(api_key_id=partner.key_id, call_sid=call_sid))
        answer = self.flow.start(call_sid, f"api:{partner.name}"[:20])
        answer = self._answer(call_sid, answer, agent)
        if self._step(call_sid) == "pin":
            answer = self._answer(call_sid, answer, pin)
        if self._step(call_sid) == "salesperson_id":
            if salesperson is None:
                self._end(call_sid)
                raise ApiRefused(
                    403, "this agent sells through salespeople: give salesperson and its PIN"
                )
            answer = self._answer(call_sid, answer, salesperson[0])
            if self._step(call_sid) == "salesperson_pin":
                answer = self._answer(call_sid, answer, salesperson[1])
        if self._step(call_sid) != "menu":
            if isinstance(answer.outcome, Transfer):
                self._end(call_sid)
                raise ApiRefused(403, f"agent log-on refused: {answer.outcome.reason}")
            who = "salesperson" if self._step(call_sid).startswith("salesperson") else "agent"
            self._end(call_sid)
            raise ApiRefused(403, f"that {who} ID and PIN do not match")
        answer = self._answer(call_sid, answer, code or "#")
        step = self._step(call_sid)
        if code and step == "menu":
            self._end(call_sid)
            self._refuse_resume(call_sid, code)
        if step == "tx_code":
            answer = self._answer(call_sid, answer, "2")
        self._link(call_sid)
        return self.state(call_sid, answer)

    def submit(self, call_sid: str, value: str, seq: int | None) -> dict[str, Any]:
        """Give the step waiting now its entry (seq: the answer number it responds to)."""
        with self.services.db.read() as session:
            call = session.get(Call, call_sid)
            if call is None:
                raise ApiRefused(404, "no such session")
            ended, step, current = call.ended, call.step, call.seq
        if ended:
            raise ApiRefused(409, "this session has ended; read the transaction's status")
        if STEPS[step].hold and seq in (None, current):
            raise ApiRefused(409, f"waiting at {step}: read the status to poll, then answer")
        answer = self.flow.answer(call_sid, current if seq is None else seq, value)
        if answer is None:
            raise ApiRefused(404, "no such session")
        self._link(call_sid)
        return self.state(call_sid, answer)

    def poll(self, call_sid: str) -> dict[str, Any]:
        """Read the session; at a hold step, let the flow look at the background work first.

        A session left at the delayed menu whose number has since come through is taken on
        to the number, as an agent keying 1 (try again now) would be.
        """
        with self.services.db.read() as session:
            call = session.get(Call, call_sid)
            if call is None:
                raise ApiRefused(404, "no such session")
            hold = not call.ended and STEPS[call.step].hold
            completed = (
                not call.ended
                and call.step == "delayed"
                and call.transaction is not None
                and call.transaction.status == TxStatus.ACTIVE
            )
            seq = call.seq
        answer = None
        if hold:
            answer = self.flow.answer(call_sid, seq, None)
        elif completed:
            answer = self.flow.answer(call_sid, seq, "1")
        self._link(call_sid)
        return self.state(call_sid, answer)

    def find(self, partner: Partner, code: str) -> str:
        """Return the partner's latest session on a transaction, or refuse with 404."""
        with self.services.db.read() as session:
            call_sid = session.scalar(
                select(ApiSession.call_sid)
                .join(ApiKey, ApiKey.id == ApiSession.api_key_id)
                .join(Transaction, Transaction.id == ApiSession.transaction_id)
                .where(ApiKey.partner_id == partner.partner_id, Transaction.code == code)
                .order_by(ApiSession.id.desc())
                .limit(1)
            )
        if call_sid is None:
            raise ApiRefused(404, f"no transaction {code} for this partner")
        return call_sid

    def state(self, call_sid: str, answer: Answer | None = None) -> dict[str, Any]:
        """Describe the session as the API shows it."""
        with self.services.db.read() as session:
            call = session.get_one(Call, call_sid)
            if answer is None:
                stored = self.services.vault.decrypt(call.last_answer or "")
                answer = Answer.from_dict(json.loads(stored))
            tx = call.transaction
            outcome = answer.outcome
            body: dict[str, Any] = {
                "transaction_code": tx.code if tx else None,
                "status": tx.status if tx else None,
                "step": call.step,
                "state": _state(outcome, call.ended),
                "seq": call.seq,
                "messages": [
                    {"code": getattr(sentence, "key", "") or "other"} for sentence in outcome.say
                ],
                "read_back": None,
                "expects": None,
                "retry_after": None,
                "escalation_reason": tx.escalation_reason if tx else None,
                "mid": tx.mid if tx and tx.status == "active" else None,
                "values": _values(tx),
            }
            if isinstance(outcome, Prompt) and not call.ended:
                body["expects"] = expects(call.step)
                body["read_back"] = read_back(session, call.step, tx)
            if isinstance(outcome, Hold) and not call.ended:
                body["retry_after"] = outcome.pause
            if isinstance(outcome, Transfer):
                body["escalation_reason"] = outcome.reason
            return body

    def _answer(self, call_sid: str, previous: Answer, value: str) -> Answer:
        answer = self.flow.answer(call_sid, previous.seq, value)
        assert answer is not None  # the session's call was started just before
        return answer

    def _step(self, call_sid: str) -> str:
        with self.services.db.read() as session:
            return session.get_one(Call, call_sid).step

    def _end(self, call_sid: str) -> None:
        with self.services.db.transaction() as session:
            session.get_one(Call, call_sid).ended = True

    def _link(self, call_sid: str) -> None:
        with self.services.db.transaction() as session:
            call = session.get_one(Call, call_sid)
            row = session.scalar(select(ApiSession).where(ApiSession.call_sid == call_sid))
            if row is not None and row.transaction_id != call.transaction_id:
                row.transaction_id = call.transaction_id

    def _refuse_resume(self, call_sid: str, code: str) -> None:
        with self.services.db.read() as session:
            agent_id = session.get_one(Call, call_sid).agent_id
            status = session.scalar(
                select(Transaction.status).where(
                    Transaction.code == code, Transaction.agent_id == agent_id
                )
            )
        if status is None:
            raise ApiRefused(404, f"no transaction {code} for this agent")
        raise ApiRefused(409, f"transaction {code} is {status} and cannot be resumed")


def _state(outcome: object, ended: bool) -> str:
    if isinstance(outcome, Transfer):
        return "escalated"
    if isinstance(outcome, Hangup) or ended:
        return "ended"
    if isinstance(outcome, Hold):
        return "hold"
    return "input"


def read_back(session: Session, step: str, tx: Transaction | None) -> dict[str, Any] | None:
    """What a confirmation step asks the partner to confirm: the value it sent, masked where
    it is a tax ID (the SSN or EIN itself never travels back)."""
    if tx is None:
        return None
    if step == "esn_confirm":
        return {"field": "esn", "value": tx.esn}
    if step == "ssn_confirm":
        last4 = tx.ssn_last4 or ""
        if tx.customer_kind == "business":
            return {"field": "ein", "value": f"**-***{last4}"}
        return {"field": "ssn", "value": f"***-**-{last4}"}
    if step == "name_confirm":
        return {"field": "customer", "name": tx.bureau_name, "address": tx.bureau_address}
    if step == "plan_confirm":
        plan = session.get(RatePlan, tx.rate_plan_code or "")
        return {
            "field": "rate_plan",
            "value": tx.rate_plan_code,
            "name": plan.name if plan else None,
            "monthly_cents": plan.monthly_cents if plan else None,
        }
    if step == "npa_confirm":
        return {"field": "npa_nxx", "value": tx.npa_nxx}
    if step == "mid":
        return {"field": "mid", "value": tx.mid}
    return None


def _values(tx: Transaction | None) -> dict[str, Any]:
    if tx is None:
        return {}
    return {
        "esn": tx.esn,
        "customer_kind": tx.customer_kind,
        "ssn_last4": tx.ssn_last4,
        "customer_name": tx.bureau_name,
        "customer_address": tx.bureau_address,
        "credit_decision": tx.credit_decision,
        "deposit_cents": tx.deposit_cents,
        "deposit_method": tx.deposit_method,
        "rate_plan": tx.rate_plan_code,
        "npa_nxx": tx.npa_nxx,
        "switch": tx.switch_name,
    }
