"""Outcomes of the call flow turned into TwiML with twilio's VoiceResponse."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

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


# A prompt or a hold is the same document for every call that hears it but for the answer
# number in its URLs: rendered once with a stand-in number, kept, and the number put in.
# Rendering cost a webhook about 250 us of CPU (VoiceResponse's tree and its serialisation).
_STAND_IN = -1
_KEPT = 1024


def render(answer: Answer, csr_number: str, endpoint: str = "voice.gather") -> str:
    """Return the TwiML document for an answer of the call flow (`endpoint` takes its keys)."""
    outcome = answer.outcome
    if isinstance(outcome, Prompt | Hold):
        # Said is a str: its language (the voice) is part of what makes two sentences alike.
        voices = tuple(getattr(sentence, "language", "en") for sentence in outcome.say)
        stand_in = escape(url_for(endpoint, n=_STAND_IN))
        kept = _kept(outcome, voices, stand_in, endpoint)
        if kept.count(stand_in) == (2 if isinstance(outcome, Prompt) else 1):
            here = stand_in.replace(f"n={_STAND_IN}", f"n={answer.seq}")  # its one argument
            return kept.replace(stand_in, here)
    return _rendered(answer, csr_number, endpoint)


@lru_cache(maxsize=_KEPT)
def _kept(outcome: Prompt | Hold, voices: tuple[str, ...], stand_in: str, endpoint: str) -> str:
    """The document of a prompt or a hold with the stand-in number (`voices` and `stand_in`,
    the URL as the app is mounted, make the key: the outcome alone does not tell them)."""
    return _rendered(Answer(_STAND_IN, outcome), "", endpoint)


def _rendered(answer: Answer, csr_number: str, endpoint: str) -> str:
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
