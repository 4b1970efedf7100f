"""Outcomes of the call flow turned into TwiML with twilio's VoiceResponse."""

from __future__ import annotations

from typing import Any

from flask import url_for
from twilio.twiml.voice_response import Dial, VoiceResponse

from activation.call.outcomes import Answer, Hangup, Hold, Prompt, Transfer

VOICE = "Polly.Joanna"
# Amazon Polly's voices by the language of the sentence: US English, and US Spanish.
VOICES = {"en": ("Polly.Joanna", "en-US"), "es": ("Polly.Lupe", "es-US")}


def say_to(verb: Any, sentence: str) -> None:
    """Say a sentence with the voice of its language."""
    voice, language = VOICES.get(getattr(sentence, "language", "en"), VOICES["en"])
    verb.say(sentence, voice=voice, language=language)


def render(answer: Answer, csr_number: str, endpoint: str = "voice.gather") -> str:
    """Return the TwiML document for an answer of the call flow (`endpoint` takes its keys)."""
    outcome = answer.outcome
    response = VoiceResponse()
    next_url = url_for(endpoint, n=answer.seq)
    if isinstance(outcome, Prompt):
        gather = response.gather(
            input="dtmf",
            action=next_url,
            method="POST",
            timeout=outcome.timeout,
            finish_on_key=outcome.finish_on_key,
            num_digits=outcome.max_digits if outcome.fixed_length else None,
        )
        for sentence in outcome.say:
            say_to(gather, sentence)
        # Silence falls through the Gather: come back to the same step as a timeout.
        response.redirect(next_url, method="POST")
    elif isinstance(outcome, Hold):
        for sentence in outcome.say:
            say_to(response, sentence)
        # The hold sentence is said once; every poll plays the chime, so the caller hears the
        # call is alive between the pauses.
        response.play(url_for("media.hold_wav"))
        response.pause(length=outcome.pause)
        response.redirect(next_url, method="POST")
    elif isinstance(outcome, Transfer):
        for sentence in outcome.say:
            say_to(response, sentence)
        whisper = url_for("voice.whisper", tx=outcome.transaction_code or "")
        if csr_number:
            dial = Dial()
            dial.number(csr_number, url=whisper, method="POST")
            response.append(dial)
        else:
            # The wait in the queue is said in the call's language (its last sentence's).
            spoken = getattr(outcome.say[-1], "language", "en") if outcome.say else "en"
            wait_url = url_for("voice.queue_wait", lang=spoken)
            response.enqueue("csr", wait_url=wait_url, wait_url_method="POST")
    elif isinstance(outcome, Hangup):
        for sentence in outcome.say:
            say_to(response, sentence)
        response.hangup()
    return str(response)
