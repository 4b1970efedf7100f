"""The call-back call: the agent keys ID and PIN again, hears the MID, accepts or denies it.

It runs on the same rules as an incoming call (CallFlow: numbered answers, silence and bad
entries counted, `0` for a CSR) and on the very log-on steps. The log-on always continues at
the step named `menu`; in this flow that step is the offer of the MID.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from activation.call.context import Ctx, Step, open_call
from activation.call.engine import CallFlow
from activation.call.login import LOGIN_STEPS
from activation.call.outcomes import Answer, Outcome
from activation.call.speech import digits, phone_number, say, speaking, status_words
from activation.followup import callbacks
from activation.lifecycle.states import TxStatus
from activation.services import Services
from activation.store.models import Call, Transaction

_LOGIN = {step.name: step for step in LOGIN_STEPS}
CALLBACK_DIRECTION = "outbound-api"  # Twilio's word for a call placed through its REST API


def _pin(ctx: Ctx, entry: str) -> Outcome:
    outcome = _LOGIN["pin"].handle(ctx, entry)
    if ctx.call.agent_id is None or ctx.call.ended:
        return outcome  # the log-on rules have refused, re-asked or transferred
    tx = ctx.require_tx()
    if tx.agent_id != ctx.call.agent_id:
        return ctx.hangup(say("callback_other_agent", code=digits(tx.code)))
    if tx.status != TxStatus.ACTIVE or not tx.mid:
        return ctx.hangup(say("tx_closed", code=digits(tx.code), status=status_words(tx.status)))
    callbacks.heard(ctx.session, tx, ctx.call.call_sid)
    return outcome


def _offer_prompt(ctx: Ctx) -> tuple[str, ...]:
    tx = ctx.require_tx()
    return (say("callback_offer", code=digits(tx.code), mid=phone_number(tx.mid or "")),)


def _offer(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    mid = phone_number(tx.mid or "")
    if tx.status != TxStatus.ACTIVE:  # moved by someone else while the agent listened
        return ctx.hangup(say("tx_closed", code=digits(tx.code), status=status_words(tx.status)))
    if entry == "1":
        callbacks.accept(ctx.session, tx, ctx.call.call_sid, actor="agent")
        return ctx.hangup(say("callback_accepted", mid=mid))
    callbacks.deny(ctx.session, tx, ctx.call.call_sid, actor="agent")
    return ctx.hangup(say("callback_denied", mid=mid))


CALLBACK_STEPS: dict[str, Step] = {
    "agent_id": _LOGIN["agent_id"],
    "pin": dataclasses.replace(_LOGIN["pin"], handle=_pin),
    "menu": Step("menu", _offer_prompt, _offer, choices="12"),
}


class CallbackFlow(CallFlow):
    """Takes the webhooks of a call-back call."""

    def __init__(self, services: Services) -> None:
        super().__init__(services, CALLBACK_STEPS, direction=CALLBACK_DIRECTION)

    def start_callback(self, call_sid: str, tx_code: str, agent_number: str = "") -> Answer:
        """Answer the agent picking up the call-back of a transaction."""
        with self.services.db.transaction() as session:
            call = session.get(Call, call_sid, with_for_update=True)
            if call is not None:
                self._own(call)
                return self._stored(call)
            tx = session.scalar(select(Transaction).where(Transaction.code == tx_code))
            call = open_call(call_sid, agent_number, CALLBACK_DIRECTION, tx)
            session.add(call)
            ctx = Ctx(session, call, self.services, self.steps)
            if tx is None:
                return self._keep(ctx, ctx.hangup(say("callback_unknown")))
            call.language = tx.agent.language  # calling the agent back: the agent's language
            with speaking(call.language):
                outcome = ctx.prompt("agent_id", say("callback_intro", code=digits(tx.code)))
            return self._keep(ctx, outcome)
