"""The call as a state machine over the database: answers in, outcomes out, no HTTP.

Rules every step shares: `0` alone reaches a CSR; `*` repeats the prompt; silence and bad entries
are counted apart, the second of either at one step goes to a CSR. Every answer is numbered and
kept (encrypted), so a webhook delivered twice gets the same answer and changes nothing twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, select

from activation.call import rows
from activation.call.context import Ctx, Step, open_call
from activation.call.customer import CUSTOMER_STEPS
from activation.call.line import LINE_STEPS
from activation.call.login import LOGIN_STEPS
from activation.call.number import NUMBER_STEPS
from activation.call.outcomes import Answer, Outcome
from activation.call.salesperson import SALESPERSON_STEPS
from activation.call.speech import language, say, say_choices, speaking
from activation.keyed import is_digits
from activation.lifecycle import states
from activation.lifecycle.states import Move
from activation.services import Services
from activation.store.models import Call

log = logging.getLogger("cas.call")
# Twilio's final call statuses.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

# Built once: every webhook locks its call's row with it.
_CALL_LOCK = select(Call).where(Call.call_sid == bindparam("call_sid")).with_for_update()

STEPS: dict[str, Step] = {
    step.name: step
    for step in (*LOGIN_STEPS, *SALESPERSON_STEPS, *CUSTOMER_STEPS, *NUMBER_STEPS, *LINE_STEPS)
}


@dataclass(frozen=True)
class _Slow:
    """A step whose entry needs slow work done before its write transaction (see Step)."""

    step: Step
    call: Call


class OtherFlow(Exception):
    """The call belongs to another flow (an incoming call, a call-back, an API session)."""


class CallFlow:
    """Takes each webhook of a call and decides what the caller hears next.

    A flow answers the calls of its own direction only: an incoming call's webhook posted to
    the call-back's flow (or the reverse) would run steps the call never had.
    """

    def __init__(
        self,
        services: Services,
        steps: dict[str, Step] | None = None,
        direction: str = "inbound",
    ) -> None:
        self.services = services
        self.steps = steps or STEPS  # the call-back runs its own steps on the same rules
        self.direction = direction

    def start(self, call_sid: str, from_number: str = "") -> Answer:
        """Answer a new call (a repeated first webhook gets the answer already given)."""
        with self.services.db.transaction() as session:
            call = session.get(Call, call_sid, with_for_update=True)
            if call is not None:
                self._own(call)
                return self._stored(call)
            call = open_call(call_sid, from_number, self.direction)
            session.add(call)
            ctx = Ctx(session, call, self.services, self.steps)
            with speaking(call.language):
                outcome = ctx.prompt("agent_id", say("welcome"))
            return self._keep(ctx, outcome)

    def answer(self, call_sid: str, seq: int, digits: str | None) -> Answer | None:
        """Handle the caller's entry (None: silence, or a poll at a hold step).

        Returns None for a call this server never answered; raises OtherFlow for a call of
        another flow. One write transaction a webhook: a step with slow work on its entry (a
        PIN hash, the PVS) lets go of the call, does it with no lock held, and comes back.
        """
        taken = self._take(call_sid, seq, digits, None, defer=True)
        if not isinstance(taken, _Slow):
            return taken
        assert taken.step.precheck is not None and digits
        checked = taken.step.precheck(self.services, taken.call, digits)
        answer = self._take(call_sid, seq, digits, checked, defer=False)
        assert not isinstance(answer, _Slow)
        return answer

    def _take(
        self, call_sid: str, seq: int, digits: str | None, checked: object, defer: bool
    ) -> Answer | _Slow | None:
        with self.services.db.transaction() as session:
            # Every session on a transaction (another call, the API, a CSR, the worker)
            # waits on its lock for this one: the step decides on the transaction as it is.
            call = rows.lock(session, call_sid)
            if call is None:
                return None
            self._own(call)
            if seq != call.seq or call.ended:
                return self._stored(call)
            handled = call.step
            step = self.steps[handled]
            if defer and step.precheck is not None and digits:
                return _Slow(step, call)  # committing nothing, the lock is let go
            ctx = Ctx(session, call, self.services, self.steps, checked=checked)
            with speaking(call.language):
                outcome = self._decide(ctx, step, digits)
            code = call.transaction.code if call.transaction else None
            log.info(
                "call %s step %s -> %s",
                call_sid,
                handled,
                type(outcome).__name__,
                extra={"tx": code},
            )
            answer = self._keep(ctx, outcome)
            rows.write(session, call)
            return replace(answer, step=handled, transaction_code=code)

    def hung_up(self, call_sid: str, status: str) -> str:
        """Take the provider's final status of a call: a caller gone part-way abandons the
        transaction at its step (resumable by its code); return what became of the call."""
        if status not in FINAL_STATUSES:
            return "noted"
        with self.services.db.transaction() as session:
            call = session.scalar(_CALL_LOCK, {"call_sid": call_sid})
            if call is None:
                return "unknown"
            self._own(call)  # an API session or a call-back is not this flow's to end
            if call.ended:
                return "ended"  # CAS ended it itself (goodbye, a transfer): nothing was left
            call.ended = True
            if call.transaction_id is None:
                return "ended"
            tx = states.lock(session, call.transaction_id)
            if not states.allowed(tx.status, Move.ABANDON):
                return "ended"
            states.move(session, tx, Move.ABANDON, "ivr", f"caller hung up at {call.step}")
            log.info("call %s hung up at %s", call_sid, call.step, extra={"tx": tx.code})
            return "abandoned"

    def _own(self, call: Call) -> None:
        if call.direction != self.direction:
            raise OtherFlow(f"call {call.call_sid} is not a call of the {self.direction} flow")

    def _decide(self, ctx: Ctx, step: Step, digits: str | None) -> Outcome:
        if step.hold:
            return step.handle(ctx, "")
        entry = (digits or "").strip()
        if step.pound_is_answer and len(entry) > 1 and entry.endswith("#"):
            if is_digits(entry[:-1]):
                entry = entry[:-1]  # a code ended with '#', as every other entry is
        if entry == "":
            ctx.call.timeouts += 1
            if ctx.call.timeouts >= step.max_timeouts:
                return ctx.transfer(
                    f"{step.label or step.name}: no input", say("no_input"), kind="no_input"
                )
            return ctx.prompt(step.name, say("no_input"))
        if entry == "0":
            return ctx.transfer(
                f"{step.label or step.name}: agent asked for a CSR", kind="asked_for_csr"
            )
        if entry == "*" and step.star_switches_language:
            ctx.call.language = "es" if language() == "en" else "en"
            with speaking(ctx.call.language):
                return ctx.prompt(step.name)
        if "*" in entry:
            return ctx.prompt(step.name)
        problem = self._problem(ctx, step, entry)
        if problem is not None:
            return ctx.fail(step.name, problem, *self._wrong(step, entry))
        return step.handle(ctx, entry)

    @staticmethod
    def _wrong(step: Step, entry: str) -> tuple[str, ...]:
        """What the caller hears after a wrong entry: what the step takes, not just 'invalid'."""
        if step.choices:
            keys = list(step.choices)
            return (say("wrong_choice", keys=say_choices(keys)),)
        if step.wrong:
            return (say("invalid"), say(step.wrong))
        return (say("invalid"),)

    @staticmethod
    def _problem(ctx: Ctx, step: Step, entry: str) -> str | None:
        if entry in ("#", "##") and step.pound_is_answer:
            return None
        if not is_digits(entry):
            return "keys other than digits"
        if step.choices:
            return None if entry in step.choices else f"key {entry}, not one of the choices"
        if not step.min_digits <= len(entry) <= step.max_digits:
            wanted = (
                f"{step.min_digits}"
                if step.min_digits == step.max_digits
                else f"{step.min_digits} to {step.max_digits}"
            )
            return f"{len(entry)} digits, not {wanted}"
        return step.validate(ctx, entry) if step.validate else None

    def _keep(self, ctx: Ctx, outcome: Outcome) -> Answer:
        call = ctx.call
        call.seq += 1
        call.updated_at = ctx.now
        answer = Answer(call.seq, outcome)
        call.last_answer = self.services.vault.encrypt(json.dumps(answer.to_dict()))
        return answer

    def _stored(self, call: Call) -> Answer:
        return Answer.from_dict(json.loads(self.services.vault.decrypt(call.last_answer or "")))
