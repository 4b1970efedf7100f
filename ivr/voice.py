"""The call-flow blueprint: POST /voice for a new call, /voice/gather for every answer after."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from activation.call.engine import CallFlow, OtherFlow
from activation.call.outcomes import Answer, Transfer
from activation.call.speech import LANGUAGES, digits, say, say_in
from activation.keyed import is_digits
from ivr.metrics import observe

from . import signature, twiml, webhook

bp = Blueprint("voice", __name__, url_prefix="/voice")
log = logging.getLogger("cas.ivr")


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.before_request
def _check_signature() -> None:
    signature.require(request, current_app.extensions["cas"].settings)


_call_sid = webhook.call_sid
bp.register_error_handler(OtherFlow, webhook.other_flow)


@bp.post("")
def incoming() -> Response:
    """Answer a new incoming call with the welcome and the agent ID prompt."""
    started = time.perf_counter()
    flow: CallFlow = current_app.extensions["cas.callflow"]
    answer = flow.start(_call_sid(), webhook.caller())
    body = twiml.render(answer, current_app.extensions["cas"].settings.csr_number)
    log.debug("voice start in %.1f ms", (time.perf_counter() - started) * 1000)
    return _xml(body)


@bp.post("/gather")
def gather() -> Response:
    """Take the caller's keys (or silence, or a poll) for the answer numbered n."""
    seq = webhook.answer_number()
    flow: CallFlow = current_app.extensions["cas.callflow"]
    call_sid = _call_sid()
    answer = flow.answer(call_sid, seq, request.form.get("Digits"))
    if answer is not None:
        observe(answer)
    if answer is None:
        # A call this server never answered: start it afresh rather than drop the caller.
        answer = flow.start(call_sid, webhook.caller())
    return _xml(twiml.render(answer, current_app.extensions["cas"].settings.csr_number))


@bp.post("/fallback")
def fallback() -> Response:
    """Apologise and hand the caller to a CSR: Twilio's fallback when /voice failed.

    Twilio calls it when the voice URL errs, times out or answers what it cannot run; it
    touches no database, since a database gone away is a likely reason for being here.
    """
    log.error(
        "voice fallback: Twilio could not run %s (error %s); the caller goes to a CSR",
        request.form.get("ErrorUrl", "the voice URL"),
        request.form.get("ErrorCode", "unknown"),
        extra={"call_sid": request.form.get("CallSid", "")},
    )
    sorry = Transfer((say("fallback_sorry"), say("to_csr")), "fallback", None)
    return _xml(twiml.render(Answer(0, sorry), current_app.extensions["cas"].settings.csr_number))


@bp.post("/status")
def status() -> Response:
    """Twilio's status callback of an incoming call: a caller gone part-way abandons."""
    flow: CallFlow = current_app.extensions["cas.callflow"]
    flow.hung_up(_call_sid(), request.form.get("CallStatus", ""))
    return Response(status=204)


@bp.post("/whisper")
def whisper() -> Response:
    """Tell the CSR which transaction the call carries before it is connected."""
    response = VoiceResponse()
    code = request.args.get("tx", "")
    if is_digits(code, 8, 8):
        response.say(say("csr_whisper", code=digits(code)), voice=twiml.VOICE)
    return _xml(str(response))


@bp.post("/queue-wait")
def queue_wait() -> Response:
    """Keep an enqueued caller company, in the call's language, until a CSR takes the call."""
    response = VoiceResponse()
    language = request.args.get("lang", "en")
    twiml.say_to(response, say_in(language if language in LANGUAGES else "en", "queue_busy"))
    response.pause(length=10)
    return _xml(str(response))
