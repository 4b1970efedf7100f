"""The call-back blueprint: the TwiML of a call CAS placed to an agent, and its call status.

POST /voice/callback?tx=CODE        the agent answered: ask for agent ID (Twilio's call Url)
POST /voice/callback/gather?n=SEQ   each answer after that
POST /voice/callback-status         Twilio's status callback for the call
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from activation.call.callback import CallbackFlow
from activation.call.engine import OtherFlow
from activation.call.speech import say
from activation.followup import callbacks
from activation.keyed import is_digits
from activation.services import Services
from ivr.metrics import observe

from . import signature, twiml, webhook

bp = Blueprint("callback_voice", __name__, url_prefix="/voice")
log = logging.getLogger("cas.ivr.callback")


def _services() -> Services:
    return current_app.extensions["cas"]


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


_call_sid = webhook.call_sid
bp.register_error_handler(OtherFlow, webhook.other_flow)


@bp.before_request
def _check_signature() -> None:
    signature.require(request, _services().settings)


@bp.post("/callback")
def answered() -> Response:
    """The agent picked up the call-back: introduce it and ask for the agent ID."""
    code = request.args.get("tx", "")
    if not is_digits(code, 8, 8):
        abort(400, description="transaction code tx missing")
    flow = CallbackFlow(_services())
    agent_number = webhook.printable(request.form.get("To", ""))
    answer = flow.start_callback(_call_sid(), code, agent_number)
    return _xml(twiml.render(answer, _services().settings.csr_number, "callback_voice.gather"))


@bp.post("/callback/gather")
def gather() -> Response:
    """Take the agent's keys (or silence) for the answer numbered n."""
    seq = webhook.answer_number()
    answer = CallbackFlow(_services()).answer(_call_sid(), seq, request.form.get("Digits"))
    if answer is not None:
        observe(answer)
    if answer is None:  # a call this server never answered: nothing to go on
        response = VoiceResponse()
        response.say(say("callback_unknown"), voice=twiml.VOICE)
        response.hangup()
        return _xml(str(response))
    return _xml(twiml.render(answer, _services().settings.csr_number, "callback_voice.gather"))


@bp.post("/callback-status")
def status() -> Response:
    """Take Twilio's report on a call-back call; a final one settles its activity."""
    outcome = callbacks.call_status(_services().db, _call_sid(), request.form.get("CallStatus", ""))
    log.info(
        "call-back %s status %s: %s",
        request.form.get("CallSid"),
        request.form.get("CallStatus"),
        outcome,
    )
    return Response(status=204)
