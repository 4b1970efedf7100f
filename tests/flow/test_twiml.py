"""The TwiML of an answer: a prompt or a hold kept once rendered, each call's own number in it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import Flask

from activation.call.outcomes import Answer, Hangup, Hold, Prompt, Transfer
from activation.call.speech import Said
from ivr import twiml

WELCOME = Said("Welcome.", "welcome", "en")
BIENVENIDO = Said("Welcome.", "welcome", "es")  # the same words, the other language's voice
OUTCOMES = [
    Prompt((WELCOME, Said("Enter your agent ID.", "agent_id", "en")), 6),
    Prompt((Said("Press 1 or 2.", "kind", "es"),), 1, finish_on_key="", fixed_length=True),
    Hold((Said("Please hold.", "credit_wait", "en"),), 2),
    Transfer((Said("A CSR will help you.", "to_csr", "en"),), "asked", "12345678"),
    Hangup((Said("Goodbye.", "goodbye", "en"),)),
]


@pytest.mark.parametrize("endpoint", ["voice.gather", "callback_voice.gather"])
@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: type(o).__name__)
def test_every_answer_reads_as_if_rendered_afresh(app: Flask, endpoint: str, outcome) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/", method="POST"):
        for seq in (3, 41, 3, 7000):
            answer = Answer(seq, outcome)
            assert twiml.render(answer, "", endpoint) == twiml._rendered(answer, "", endpoint)


def test_a_kept_prompt_carries_each_call_s_own_number(app: Flask) -> None:
    prompt = OUTCOMES[0]
    twiml._kept.cache_clear()
    with app.test_request_context("/", method="POST"):
        first = ET.fromstring(twiml.render(Answer(5, prompt), ""))
        second = ET.fromstring(twiml.render(Answer(12, prompt), ""))
    kept = twiml._kept.cache_info()
    assert (kept.misses, kept.hits) == (1, 1)  # rendered once, for both calls
    assert first.find("Gather").get("action").endswith("?n=5")  # type: ignore[union-attr]
    assert first.find("Redirect").text.endswith("?n=5")  # type: ignore[union-attr]
    assert second.find("Gather").get("action").endswith("?n=12")  # type: ignore[union-attr]
    assert second.find("Redirect").text.endswith("?n=12")  # type: ignore[union-attr]


def test_the_same_words_in_another_language_keep_their_own_voice(app: Flask) -> None:
    with app.test_request_context("/", method="POST"):
        english = ET.fromstring(twiml.render(Answer(1, Prompt((WELCOME,), 6)), ""))
        spanish = ET.fromstring(twiml.render(Answer(1, Prompt((BIENVENIDO,), 6)), ""))
    assert english.find("Gather/Say").get("voice") == "Polly.Joanna"  # type: ignore[union-attr]
    assert spanish.find("Gather/Say").get("voice") == "Polly.Lupe"  # type: ignore[union-attr]


def test_an_app_mounted_elsewhere_gets_its_own_urls(app: Flask) -> None:
    prompt = Prompt((Said("Mounted.", "x", "en"),), 6)
    with app.test_request_context("/", method="POST", base_url="http://host/cas"):
        mounted = ET.fromstring(twiml.render(Answer(2, prompt), ""))
    with app.test_request_context("/", method="POST"):
        plain = ET.fromstring(twiml.render(Answer(2, prompt), ""))
    assert mounted.find("Gather").get("action") == "/cas/voice/gather?n=2"  # type: ignore[union-attr]
    assert plain.find("Gather").get("action") == "/voice/gather?n=2"  # type: ignore[union-attr]
