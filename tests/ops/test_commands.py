"""The commands an operator runs beside the demo: compare on a terminal or not, letter, dial
without a token or waiting for a call-back, and any command that finds no database."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from activation.lifecycle import states
from activation.store.followup import WelcomeLetter
from activation.store.models import Agent
from ivr import create_app
from ivr.cli import cas
from ivr.demo_folder import DemoCard
from ivr.fake_twilio import FakeTwilio
from tests.conftest import TEST_SECRET
from tests.flow.conftest import switches  # noqa: F401  (switch simulators, as in flow tests)
from tests.queue.conftest import active_transaction

TOKEN = "ops-test-auth-token"


@pytest.fixture
def env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The environment a command run beside that data dir sees (restored after the test)."""
    monkeypatch.setenv("CAS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CAS_SECRET_KEY", TEST_SECRET)
    for name in ("CAS_DATABASE_URL", "CAS_URL", "TWILIO_AUTH_TOKEN", "CAS_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


def serve(app: Flask) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


# -- cas compare --------------------------------------------------------------------------------


def _compare(env: dict[str, str], terminal: bool) -> tuple[int, str]:
    args = [sys.executable, "-m", "ivr", "compare", "--switch", "HOU1", "--switch", "HOU2"]
    if not terminal:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args,
        env=env | {"TERM": "xterm", "COLUMNS": "100"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the other end closed: Linux says EIO
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(120), b"".join(chunks).decode(errors="replace")


def test_compare_prints_a_summary_on_a_terminal_and_json_lines_otherwise(
    services,
    switches,  # noqa: F811
    env,
):
    with services.db.transaction() as session:
        active_transaction(session, "71000001", "7135550001")  # HOU1 never got it
    status, shown = _compare(env, terminal=True)
    assert status == 1, shown
    assert "CAS telephone-number comparison" in shown
    assert "discrepancies: 1" in shown and "HOU1" in shown
    assert "The files are in" in shown
    assert '{"' not in shown  # no JSON event, no JSON log line

    status, lines = _compare(env, terminal=False)
    assert status == 1
    events = [json.loads(line)["event"] for line in lines.splitlines()]
    assert events[0] == "run_started" and events[-1] == "run_finished"


# -- cas letter ---------------------------------------------------------------------------------


def test_letter_writes_one_welcome_letter_and_says_where(services, settings, env):
    with services.db.transaction() as session:
        active_transaction(session, "71000002", "7135550002")
    result = CliRunner().invoke(cas, ["letter", "71000002"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().rsplit(": ", 1)[1])
    assert path == (settings.data_dir / "letters" / "71000002.pdf").resolve()
    assert path.read_bytes().startswith(b"%PDF")
    with services.db.read() as session:
        letter = session.scalar(select(WelcomeLetter))
        assert (letter.produced_by, letter.path) == ("demand", "letters/71000002.pdf")

    unknown = CliRunner().invoke(cas, ["letter", "99999999"])
    assert unknown.exit_code == 1 and "no transaction 99999999" in unknown.output
    not_digits = CliRunner().invoke(cas, ["letter", "7100x"])
    assert not_digits.exit_code == 2 and "digits only" in not_digits.output


def test_letter_refuses_a_transaction_whose_number_is_not_active(services, env):
    with services.db.transaction() as session:
        agent = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        states.begin(session, "71000003", agent, "test")  # an activation still under way
    result = CliRunner().invoke(cas, ["letter", "71000003"])
    assert result.exit_code == 1 and "transaction 71000003 is incomplete" in result.output


# -- a command that finds no database -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["compare"],
        ["api-key", "add", "acme"],
        ["api-key", "revoke", "abcd1234"],
        ["user", "add", "maria", "--role", "csr"],
        ["letter", "1234"],
    ],
)
def test_a_command_that_finds_no_database_says_so_and_creates_none(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAS_DATA_DIR", raising=False)
    monkeypatch.delenv("CAS_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cas, args)
    assert result.exit_code == 1, result.output
    assert f"no CAS database at {tmp_path / 'var' / 'cas.sqlite3'}" in result.output
    assert "cas init-db" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no empty database, no key file


def test_an_empty_database_file_is_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CAS_DATA_DIR", str(tmp_path))
    (tmp_path / "cas.sqlite3").touch()  # what a command used to leave behind
    result = CliRunner().invoke(cas, ["api-key", "add", "acme"])
    assert result.exit_code == 1 and "has no CAS tables" in result.output


def test_the_worker_refuses_to_start_without_a_database(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ivr", "worker", "--data-dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "CAS_DATABASE_URL"},
    )
    assert done.returncode == 1 and "no CAS database at" in done.stderr
    assert not (tmp_path / "nowhere").exists()


def _worker_start(env: dict[str, str]) -> str:
    """Start `cas worker`, return what it logged until it said it runs, and stop it."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "ivr", "worker", "--threads", "1", "--no-scheduler"],
        env={**env, "CAS_LOG_FORMAT": "text"},
        stderr=subprocess.PIPE,
        text=True,
    )
    said: list[str] = []
    try:
        assert worker.stderr is not None
        for line in worker.stderr:
            said.append(line)
            if "worker running" in line:
                break
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return "".join(said)


def test_the_worker_warns_at_start_when_it_cannot_place_call_backs(env):  # type: ignore[no-untyped-def]
    said = _worker_start(env)
    assert "worker running" in said
    assert "CAS_PUBLIC_URL is not set: call-backs cannot be placed" in said
    told = _worker_start({**env, "CAS_PUBLIC_URL": "https://cas.example.com"})
    assert "worker running" in told and "CAS_PUBLIC_URL" not in told


# -- cas dial -----------------------------------------------------------------------------------


@pytest.fixture
def signing_cas(services, env):  # type: ignore[no-untyped-def]
    """CAS over HTTP, checking Twilio signatures with TOKEN."""
    from dataclasses import replace

    services.settings = replace(services.settings, twilio_auth_token=TOKEN)
    url, server = serve(create_app({"TESTING": True}, services=services))
    yield url
    server.shutdown()  # type: ignore[attr-defined]


def test_dial_without_a_token_says_how_to_pass_one(signing_cas, tmp_path, env):
    result = CliRunner().invoke(
        cas, ["dial", "--url", signing_cas, "--data-dir", str(tmp_path)], input="h\n"
    )
    assert result.exit_code == 1
    assert "HTTP 403" in result.output
    assert "--auth-token TOKEN (or TWILIO_AUTH_TOKEN=TOKEN)" in result.output
    assert "demo.json" in result.output

    wrong = CliRunner().invoke(cas, ["dial", "--url", signing_cas, "--auth-token", "nope"])
    assert wrong.exit_code == 1 and "did not accept the signature" in wrong.output


def test_dial_takes_the_url_and_token_from_the_demo_card(signing_cas, tmp_path, env):
    DemoCard(signing_cas, TOKEN, "AC" + "d" * 32, "http://127.0.0.1:9", 1).write(tmp_path)
    assert oct((tmp_path / "demo.json").stat().st_mode & 0o777) == "0o600"
    result = CliRunner().invoke(cas, ["dial", "--data-dir", str(tmp_path)], input="h\n")
    assert result.exit_code == 0, result.output
    assert f"Calling {signing_cas}/voice" in result.output
    assert "CAS: Welcome" in result.output and "Call ended: caller hung up." in result.output


def test_dial_to_the_demo_ignores_a_deployment_s_settings_left_in_the_shell(
    signing_cas, tmp_path, env
):
    """The README's deployment has TWILIO_AUTH_TOKEN and CAS_PUBLIC_URL exported; dialling the
    demo from the same shell still signs as the demo does. Typed options still win."""
    DemoCard(signing_cas, TOKEN, "AC" + "d" * 32, "http://127.0.0.1:9", 1).write(tmp_path)
    deployment = {
        "TWILIO_AUTH_TOKEN": "the-account-s-token",
        "CAS_PUBLIC_URL": "https://cas.example.com",
    }
    result = CliRunner().invoke(
        cas, ["dial", "--data-dir", str(tmp_path)], input="h\n", env=deployment
    )
    assert result.exit_code == 0, result.output
    assert "CAS: Welcome" in result.output

    typed = CliRunner().invoke(
        cas, ["dial", "--data-dir", str(tmp_path), "--auth-token", "nope"], input="h\n"
    )
    assert typed.exit_code == 1 and "did not accept the signature" in typed.output


def test_answer_callback_waits_for_the_call_back_to_be_placed(tmp_path, env):
    agent = Flask("agent-phone")
    agent.add_url_rule(
        "/answered",
        "answered",
        lambda: ("<Response><Say>Calling back.</Say><Hangup/></Response>", 200),
        methods=["POST"],
    )
    twiml_url, server = serve(agent)
    with FakeTwilio("AC" + "d" * 32, TOKEN) as network:
        DemoCard("http://127.0.0.1:9", TOKEN, network.account_sid, network.url, 1).write(tmp_path)

        def place_later() -> None:
            threading.Event().wait(1.0)
            import requests

            requests.post(
                f"{network.url}/2010-04-01/Accounts/{network.account_sid}/Calls.json",
                data={"To": "+15005550006", "From": "+15005550000", "Url": twiml_url + "/answered"},
                auth=(network.account_sid, TOKEN),
                timeout=10,
            )

        threading.Thread(target=place_later, daemon=True).start()
        result = CliRunner().invoke(
            cas, ["dial", "--answer-callback", "--wait", "20", "--data-dir", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
        assert "Waiting up to 20 s for CAS to place the call-back" in result.output
        assert "CAS: Calling back." in result.output
        assert network.calls[0].status == "completed"

        none = CliRunner().invoke(
            cas, ["dial", "--answer-callback", "--wait", "0.5", "--data-dir", str(tmp_path)]
        )
        assert none.exit_code == 1 and "no call-back is waiting (waited 0.5 s)" in none.output
    server.shutdown()  # type: ignore[attr-defined]
    nowhere = CliRunner().invoke(
        cas, ["dial", "--answer-callback", "--data-dir", str(tmp_path / "none")]
    )
    assert nowhere.exit_code == 2 and "give its PHONE_URL" in nowhere.output
