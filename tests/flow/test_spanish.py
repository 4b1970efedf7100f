"""A whole activation in Spanish: the agent's language, or the caller's choice by one key."""

from __future__ import annotations

from sqlalchemy import select

from activation.service_layer import reference
from activation.store.models import Agent, Transaction

from .conftest import AGENT_PHONE, CAS_NUMBER


def _spoken_mid(prompt: str) -> str:
    spoken = prompt.split("El número nuevo es ")[1].split(".")[0]
    return spoken.replace(",", "").replace(" ", "")


def test_an_agent_set_to_spanish_activates_a_customer_in_spanish(phone, services, worker, switches):
    reference.set_language(services, "1002", "es", "admin")
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    assert "agent I D" in call.last_prompt and "Para español, oprima asterisco." in call.last_prompt
    call.press("1002#")
    heard = call.press("1357#")
    assert "Hola, Lee Vendor." in heard and "transacción nueva" in call.last_prompt
    assert 'voice="Polly.Lupe"' in call.last_body and 'language="es-US"' in call.last_body
    heard = call.press("#")
    assert "Su código de transacción es" in heard
    code = heard.split("transacción es ")[1].split(".")[0].replace(" ", "")
    call.press("2")
    assert "Ingrese el E S N" in call.last_prompt
    assert "Un E S N tiene once dígitos" in call.press("12345#")
    call.press("13803186613#")
    assert "Usted ingresó el teléfono 1 3 8, 0 3 1 8, 6 6 1 3." in call.last_prompt
    call.press("1")
    assert "Por favor, oprima 1 o 2." in call.press("7")
    call.press("1")  # individual
    call.press("234567890#")
    assert "Usted ingresó 2 3 4, 5 6, 7 8 9 0." in call.last_prompt
    heard = call.press("1")
    assert "Estamos verificando el crédito del cliente" in heard
    assert "La agencia de crédito indica John Smith" in call.last_prompt
    call.press("1")
    assert "Se requiere un depósito de 200 dólares." in call.last_prompt
    call.press("1")  # cash
    call.press("20#")
    assert "Plan de tarifas 2 0, Economy, por 29 dólares al mes." in call.last_prompt
    call.press("1")
    call.press("281555#")
    assert "Usted ingresó 2 8 1, 5 5 5." in call.last_prompt
    heard = call.press("1")
    assert heard.count("Estamos asignando el número nuevo en el conmutador.") == 1
    assert "El número nuevo es 2 8 1, 5 5 5," in call.last_prompt
    mid = _spoken_mid(call.last_prompt)
    assert "Gracias. Adiós." in call.press("2") and call.ended
    english = [s for s in call.heard if "press" in s and "español" not in s]
    assert english == [  # before the log-on only: who the agent is is not known yet
        "Please enter your agent I D, then press pound.",
        "Please enter your PIN, then press pound.",
    ]
    with services.db.read() as session:
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.status, tx.mid, tx.deposit_method) == ("active", mid, "cash")

    # The line's later orders speak Spanish too, its state and the reasons included.
    later = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    later.press("1002#")
    later.press("1357#")
    later.press("##")
    later.press(mid + "#")
    assert "pertenece a John Smith" in later.last_prompt and "la línea está activa" in (
        later.last_prompt
    )
    later.press("1")
    later.press("3")  # suspend
    later.press("2")  # stolen
    assert "Suspender" in later.last_prompt and "motivo: robo." in later.last_prompt


def test_star_at_the_first_prompt_chooses_spanish_for_the_call(phone, services):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    heard = call.press("*")
    assert "Ingrese su número de agente" in heard and "For English, press star." in heard
    call.press("1001#")
    heard = call.press("2468#")
    assert "Hola, Pat Seller." in heard  # the agent's own language is English: the key won
    heard = call.press("#")
    assert "Su código de transacción es" in heard
    with services.db.read() as session:
        assert session.scalar(select(Agent.language).where(Agent.agent_code == "1001")) == "en"
    again = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    again.press("*")
    assert "Please enter your agent I D" in again.press("*")  # and back to English


def test_the_wait_for_a_csr_is_said_in_the_calls_language(phone, app):
    call = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    call.press("*")
    call.press("0")  # to a CSR, in Spanish
    assert call.transfer is not None and call.transfer.verb == "Enqueue"
    waiting = app.test_client().post(call.transfer.url, data={"CallSid": call.sid})
    body = waiting.get_data(as_text=True)
    assert "Todos los representantes están ocupados." in body and "Polly.Lupe" in body
    english = phone.dial(from_=AGENT_PHONE, to=CAS_NUMBER)
    english.press("0")
    body = app.test_client().post(english.transfer.url).get_data(as_text=True)
    assert "All representatives are busy." in body and "Polly.Joanna" in body
