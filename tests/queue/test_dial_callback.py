"""`cas dial --answer-callback`: a person answers, as the agent, the call-back CAS placed."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from activation.store.followup import Callback
from activation.store.models import Transaction
from ivr.dial_cli import dial

from .conftest import AUTH_TOKEN
from .test_callback_call import _ringing, ask_for_a_call_back


def test_the_agent_answers_the_call_back_from_the_terminal(
    services,
    switches,
    fake_twilio,
    cas,
    run_worker,
):
    run_worker()
    code = ask_for_a_call_back(services, switches, cas)
    placed = _ringing(services, fake_twilio)

    empty = CliRunner().invoke(dial, ["--answer-callback", "http://127.0.0.1:9"])
    assert empty.exit_code != 0 and "did not answer" in empty.output

    result = CliRunner().invoke(
        dial,
        ["--answer-callback", fake_twilio.url, "--auth-token", AUTH_TOKEN, "--pause-scale", "0"],
        input="1001#\n2468#\n1\n",
    )
    assert result.exit_code == 0, result.output
    assert f"calling back about transaction {' '.join(code)}" in result.output
    assert "is confirmed for your customer" in result.output
    with services.db.transaction() as session:
        row = session.scalar(select(Callback).where(Callback.call_sid == placed.sid))
        assert (row.status, row.outcome) == ("completed", "accepted")
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert tx.status == "active"

    again = CliRunner().invoke(dial, ["--answer-callback", fake_twilio.url, "--wait", "0"])
    assert again.exit_code != 0 and "no call-back is waiting" in again.output
