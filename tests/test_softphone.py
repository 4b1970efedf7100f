"""The softphone against a small Twilio-style app of its own, in-process and over real HTTP."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from ivr.dial_cli import dial, voice_url
from ivr.softphone import (
    CallEnded,
    FlaskTransport,
    HttpTransport,
    RedirectLoop,
    Softphone,
    SoftphoneError,
    TwimlError,
    UnsupportedVerb,
    WebhookError,
)

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://cas.example.com"
AGENT, PIN = "1001", "2468"

DOCS = {
    # Login: a relative action, keys ended by numDigits, then by the finish key.
    "voice": """<Response>
        <Gather numDigits="4" action="login/pin" timeout="7">
          <Say>Welcome to CAS.</Say><Say>Key your agent ID.</Say>
        </Gather>
        <Say>We did not hear you.</Say>
        <Redirect>/voice</Redirect>
      </Response>""",
    "pin": """<Response><Gather action="check"><Say>Key your PIN, then pound.</Say></Gather>
      <Redirect>/login/pin</Redirect></Response>""",
    "menu": """<Response><Gather numDigits="1" action="../pick?menu=main">
        <Say>Press 0 for a representative.</Say></Gather><Hangup/></Response>""",
    "wrong": "<Response><Say>Wrong PIN.</Say><Hangup/></Response>",
    "number": """<Response><Say>Connecting you.</Say><Dial callerId="+15005550000">
        <Number url="/csr/whisper?txn=4711&amp;step=esn">+15005550100</Number></Dial>
        <Say>not reached</Say></Response>""",
    "client": """<Response><Dial><Client><Identity>csr-desk</Identity>
        <Parameter name="txn" value="4711"/></Client></Dial></Response>""",
    "queue": '<Response><Dial><Queue url="/csr/whisper?txn=4711">csr</Queue></Dial></Response>',
    "task": """<Response><Enqueue workflowSid="WW0123">
        <Task priority="5">{"txn": "4711", "step": "ssn"}</Task></Enqueue></Response>""",
    "enqueue": '<Response><Enqueue waitUrl="/hold-music">csr</Enqueue></Response>',
    "bare": "<Response><Dial>+15005550100</Dial></Response>",
    "reject": "<Response><Reject/></Response>",
    "busy": '<Response><Reject reason="busy"/></Response>',
    "finish": "<Response><Say>That is all.</Say></Response>",
    "fallthrough": """<Response>
        <Gather numDigits="1" action="/seen"><Say>Choose.</Say></Gather>
        <Say>Still there?</Say>
        <Gather numDigits="1" action="/seen"><Say>Choose again.</Say></Gather>
      </Response>""",
    "empty": """<Response><Gather numDigits="1" action="/seen" actionOnEmptyResult="true">
        <Say>Choose.</Say></Gather><Say>not reached</Say></Response>""",
    "default_action": '<Response><Gather numDigits="2"><Say>Two keys.</Say></Gather></Response>',
    "keys": """<Response><Gather action="/seen" finishOnKey="*"><Say>Star ends.</Say></Gather>
      </Response>""",
    "hash": '<Response><Gather action="/seen" finishOnKey="" numDigits="1"/></Response>',
    "free": '<Response><Gather action="/seen"><Say>Any keys.</Say></Gather></Response>',
    "bare_gather": '<Response><Say>Key the ESN.</Say><Gather numDigits="11" action="/seen"/>'
    "</Response>",
    "pause": """<Response><Say>one</Say><Pause length="2"/><Pause/>
        <Gather action="/seen"><Play>https://example.com/tone.mp3</Play><Pause length="3"/>
        <Say>two</Say></Gather></Response>""",
    "ssml": """<Response><Say voice="alice">Your number is
        <say-as interpret-as="digits">713</say-as>  <break/>five five five.</Say></Response>""",
    "redirect_get": '<Response><Redirect method="GET">/doc/after_get?via=get</Redirect></Response>',
    "after_get": "<Response><Say>After a GET.</Say><Hangup/></Response>",
    "get_gather": '<Response><Gather method="GET" numDigits="4" action="/seen"/></Response>',
    "speech": '<Response><Gather input="speech" action="/seen"/></Response>',
    "record": "<Response><Say>Leave a message.</Say><Record/></Response>",
    "not_response": "<Document><Say>hi</Say></Document>",
    "loop": "<Response><Redirect>/doc/loop</Redirect></Response>",
    "seen": "<Response><Say>Seen.</Say></Response>",
    "callback": """<Response><Say>Your delayed activation is complete.</Say>
        <Gather numDigits="1" action="/seen"><Say>Press 1 to accept.</Say></Gather></Response>""",
}
PICKS = {"0": "number", "2": "client", "3": "queue", "4": "task", "5": "enqueue", "6": "bare"}


def twiml(name: str) -> Response:
    return Response(DOCS[name], mimetype="text/xml")


def make_app(public_url: str | None = PUBLIC) -> Flask:
    """Build a Twilio-style app that checks signatures and records every webhook."""
    app = Flask(__name__)
    app.config.update(AUTH_TOKEN=TOKEN, PUBLIC_URL=public_url, SEEN=[], HOLDS={})
    seen: list[dict] = app.config["SEEN"]

    @app.before_request
    def record_and_check() -> None:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode(),
                "args": request.args.to_dict(),
                "form": request.form.to_dict(),
                "signature": request.headers.get("X-Twilio-Signature"),
                "token": request.headers.get("I-Twilio-Idempotency-Token"),
            }
        )
        if app.config["AUTH_TOKEN"]:
            query = request.query_string.decode()
            base = app.config["PUBLIC_URL"] or request.host_url.rstrip("/")
            url = base + request.path + (f"?{query}" if query else "")
            params = request.form if request.method == "POST" else {}
            signature = request.headers.get("X-Twilio-Signature", "")
            if not RequestValidator(app.config["AUTH_TOKEN"]).validate(url, params, signature):
                abort(403)

    @app.post("/voice")
    def voice() -> Response:
        return twiml("voice")

    @app.post("/login/pin")
    def pin() -> Response:
        return twiml("pin")

    @app.post("/login/check")
    def check() -> Response:
        return twiml("menu" if request.form.get("Digits") == PIN else "wrong")

    @app.post("/pick")
    def pick() -> Response:
        return twiml(PICKS.get(request.form.get("Digits", ""), "finish"))

    @app.route("/doc/<name>", methods=["GET", "POST"])
    def doc(name: str) -> Response:
        return twiml(name)

    @app.post("/seen")
    def seen_view() -> Response:
        return twiml("seen")

    @app.post("/hold")
    def hold() -> Response:
        # The third poll finds the slow work done, as a background job would.
        holds = app.config["HOLDS"]
        sid = request.form["CallSid"]
        holds[sid] = holds.get(sid, 0) + 1
        if holds[sid] % 3:
            return Response(
                '<Response><Say>Please hold.</Say><Pause length="2"/>'
                "<Redirect>/hold</Redirect></Response>",
                mimetype="text/xml",
            )
        return Response(
            '<Response><Say>Done.</Say><Gather numDigits="1" action="/hold"/></Response>',
            mimetype="text/xml",
        )

    @app.post("/broken")
    def broken() -> Response:
        return Response("oops", status=500)

    @app.post("/not_xml")
    def not_xml() -> Response:
        return Response("<html><body>hello", mimetype="text/html")

    return app


@pytest.fixture
def app() -> Flask:
    return make_app()


def serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    yield from serve(app)


@pytest.fixture(params=["flask", "http"])
def transport(request: pytest.FixtureRequest, app: Flask) -> Iterator[object]:
    if request.param == "flask":
        yield FlaskTransport(app)
    else:
        for base in serve(app):
            yield HttpTransport(base, timeout=10)


def phone(transport, url: str = "/voice", **options) -> Softphone:
    options.setdefault("auth_token", TOKEN)
    options.setdefault("public_url", PUBLIC)
    options.setdefault("pause_scale", 0)
    return Softphone(transport, url, **options)


def test_a_call_logs_in_and_is_transferred_with_its_transaction(transport, app):
    call = phone(transport).dial(from_="+15005550006", to="+15005550000")

    assert call.heard == ["Welcome to CAS.", "Key your agent ID."]
    assert call.last_prompt == "Welcome to CAS. Key your agent ID."
    assert call.press(AGENT) == "Key your PIN, then pound."
    assert call.press(PIN + "#") == "Press 0 for a representative."
    assert call.press("0") == "Connecting you."

    assert call.ended and call.status == "transferred"
    assert call.transfer is not None
    assert (call.transfer.verb, call.transfer.kind) == ("Dial", "number")
    assert call.transfer.target == "+15005550100"
    assert call.transfer.params == {"txn": "4711", "step": "esn"}
    assert call.transfer.attributes["callerId"] == "+15005550000"
    assert "not reached" not in call.heard

    seen = app.config["SEEN"]
    assert [entry["path"] for entry in seen] == ["/voice", "/login/pin", "/login/check", "/pick"]
    assert seen[3]["args"] == {"menu": "main"}  # ../pick?menu=main from /login/check


def test_webhooks_carry_what_twilio_posts(transport, app):
    call = phone(transport).dial(from_="+15005550006", to="+15005550000")
    call.press(AGENT)
    call.press(PIN + "#")

    first, second, third = app.config["SEEN"]
    assert re.fullmatch(r"CA[0-9a-f]{32}", first["form"]["CallSid"])
    assert first["form"] == {
        "CallSid": call.sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+15005550006",
        "To": "+15005550000",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    assert second["form"]["CallStatus"] == "in-progress"
    assert (second["form"]["Digits"], second["form"]["FinishedOnKey"]) == (AGENT, "")
    assert (third["form"]["Digits"], third["form"]["FinishedOnKey"]) == (PIN, "#")
    assert len({entry["token"] for entry in app.config["SEEN"]}) == 3
    other = phone(transport).dial(from_="+15005550006", to="+15005550000")
    assert other.sid != call.sid


def test_keys_never_travel_in_a_url(transport, app):
    call = phone(transport).dial(from_="+15005550006", to="+15005550000")
    call.press(AGENT)
    call.press(PIN + "#")
    for entry in app.config["SEEN"]:
        assert "Digits" not in entry["query"] and PIN not in entry["query"]
    assert all(PIN not in event.text for event in call.events)

    gets = phone(transport, "/doc/get_gather").dial(from_="+1", to="+2")
    before = len(app.config["SEEN"])
    with pytest.raises(SoftphoneError, match="GET would put the keys in the URL"):
        gets.press(PIN)
    assert len(app.config["SEEN"]) == before


def test_a_forged_or_missing_signature_is_refused(transport, app):
    with pytest.raises(WebhookError) as refused:
        phone(transport, auth_token="not-the-token").dial(from_="+15005550006", to="+1")
    assert refused.value.status == 403

    with pytest.raises(WebhookError) as unsigned:
        phone(transport, auth_token=None).dial(from_="+15005550006", to="+1")
    assert unsigned.value.status == 403
    assert app.config["SEEN"][-1]["signature"] is None

    # Signed for the address posted to instead of the public one a proxy sits behind.
    with pytest.raises(WebhookError) as wrong_url:
        phone(transport, public_url=None).dial(from_="+15005550006", to="+1")
    assert wrong_url.value.status == 403


def test_without_a_public_url_the_address_posted_to_is_signed():
    app = make_app(public_url=None)
    for base in serve(app):
        for transport in (FlaskTransport(app), HttpTransport(base)):
            call = phone(transport, public_url=None).dial(from_="+1", to="+2")
            assert call.press(AGENT) == "Key your PIN, then pound."


def test_a_get_redirect_sends_the_call_in_the_query_and_is_signed(transport, app):
    call = phone(transport, "/doc/redirect_get").dial(from_="+15005550006", to="+1")
    assert call.heard == ["After a GET."]
    assert call.end_reason == "CAS hung up" and call.status == "completed"
    get = app.config["SEEN"][-1]
    assert (get["method"], get["path"], get["form"]) == ("GET", "/doc/after_get", {})
    assert get["args"]["via"] == "get" and get["args"]["CallSid"] == call.sid
    assert get["args"]["CallStatus"] == "in-progress"


def test_no_input_falls_through_to_the_next_verb(transport):
    call = phone(transport, "/doc/fallthrough").dial(from_="+1", to="+2")
    assert call.silence() == "Still there? Choose again."
    assert call.last_prompt == "Choose again."
    assert call.silence() == ""
    assert call.ended and call.end_reason == "no more TwiML: Twilio hangs up"
    with pytest.raises(CallEnded):
        call.press("1")


def test_the_finish_key_alone_is_no_input(transport):
    call = phone(transport).dial(from_="+1", to="+2")
    assert call.press("#") == "We did not hear you. Welcome to CAS. Key your agent ID."


def test_action_on_empty_result_posts_without_digits(transport, app):
    call = phone(transport, "/doc/empty").dial(from_="+1", to="+2")
    assert call.silence() == "Seen."
    posted = app.config["SEEN"][-1]
    assert posted["path"] == "/seen" and "Digits" not in posted["form"]
    assert "not reached" not in call.heard


def test_a_silent_caller_is_reprompted_by_redirect(transport):
    call = phone(transport).dial(from_="+1", to="+2")
    assert call.silence() == "We did not hear you. Welcome to CAS. Key your agent ID."
    assert not call.ended


def test_a_gather_without_action_posts_back_to_its_own_document(transport, app):
    call = phone(transport, "/doc/default_action?step=2").dial(from_="+1", to="+2")
    call.press("12")
    last = app.config["SEEN"][-1]
    assert (last["path"], last["args"], last["form"]["Digits"]) == (
        "/doc/default_action",
        {"step": "2"},
        "12",
    )


@pytest.mark.parametrize(
    ("doc", "keys", "digits", "finished"),
    [
        ("keys", "12*", "12", "*"),
        ("keys", "1#2*", "1#2", "*"),
        ("hash", "#", "#", ""),
        ("free", "123", "123", ""),
    ],
)
def test_keys_are_split_as_twilio_does(transport, app, doc, keys, digits, finished):
    call = phone(transport, f"/doc/{doc}").dial(from_="+1", to="+2")
    assert call.press(keys) == "Seen."
    form = app.config["SEEN"][-1]["form"]
    assert (form["Digits"], form["FinishedOnKey"]) == (digits, finished)


def test_keys_beyond_the_prompt_are_refused_before_anything_is_sent(transport, app):
    call = phone(transport).dial(from_="+1", to="+2")
    before = len(app.config["SEEN"])
    with pytest.raises(SoftphoneError, match="after the prompt had finished"):
        call.press(AGENT + "9")
    with pytest.raises(ValueError):
        call.press("12a4")
    assert len(app.config["SEEN"]) == before
    assert call.press(AGENT) == "Key your PIN, then pound."


def test_last_prompt_without_nested_say_is_what_was_said_before_it(transport):
    call = phone(transport, "/doc/bare_gather").dial(from_="+1", to="+2")
    assert call.last_prompt == "Key the ESN."


def test_pauses_sleep_their_length_times_the_scale(transport):
    slept: list[float] = []
    call = phone(transport, "/doc/pause", pause_scale=0.5, sleep=slept.append).dial(
        from_="+1", to="+2"
    )
    assert slept == [1.0, 0.5, 1.5]
    assert call.heard == ["one", "two"]
    assert call.last_prompt == "two"
    assert call.played == ["https://example.com/tone.mp3"]
    assert [event.kind for event in call.events] == [
        "request",
        "say",
        "pause",
        "pause",
        "play",
        "pause",
        "say",
        "gather",
    ]

    silent: list[float] = []
    phone(transport, "/doc/pause", pause_scale=0, sleep=silent.append).dial(from_="+1", to="+2")
    assert silent == []


def test_say_text_includes_ssml_and_collapses_whitespace(transport):
    call = phone(transport, "/doc/ssml").dial(from_="+1", to="+2")
    assert call.heard == ["Your number is 713 five five five."]


def test_hold_and_poll_runs_until_the_work_is_done(transport):
    # Three polls per step, and the guard counts per key press, so three is enough.
    call = phone(transport, "/hold", max_redirects=2).dial(from_="+1", to="+2")
    assert call.heard == ["Please hold."] * 2 + ["Done."]
    assert call.press("1") == "Please hold. Please hold. Done."


def test_an_endless_redirect_loop_raises(transport, app):
    with pytest.raises(RedirectLoop, match="more than 5 redirects"):
        phone(transport, "/doc/loop", max_redirects=5).dial(from_="+1", to="+2")
    assert len(app.config["SEEN"]) == 6


@pytest.mark.parametrize(
    ("key", "verb", "kind", "target", "url", "params"),
    [
        ("2", "Dial", "client", "csr-desk", None, {"txn": "4711"}),
        ("3", "Dial", "queue", "csr", "/csr/whisper?txn=4711", {"txn": "4711"}),
        ("4", "Enqueue", "queue", "WW0123", None, {"txn": "4711", "step": "ssn"}),
        ("5", "Enqueue", "queue", "csr", "/hold-music", {}),
        ("6", "Dial", "number", "+15005550100", None, {}),
    ],
)
def test_dial_and_enqueue_are_captured_as_transfers(
    transport, key, verb, kind, target, url, params
):
    call = phone(transport).dial(from_="+1", to="+2")
    call.press(AGENT)
    call.press(PIN + "#")
    call.press(key)
    assert call.ended and call.status == "transferred"
    transfer = call.transfer
    assert (transfer.verb, transfer.kind, transfer.target) == (verb, kind, target)
    assert (transfer.url, dict(transfer.params)) == (url, params)


@pytest.mark.parametrize(
    ("doc", "status", "reason"),
    [
        ("reject", "no-answer", "CAS rejected (rejected)"),
        ("busy", "busy", "CAS rejected (busy)"),
        ("finish", "completed", "no more TwiML: Twilio hangs up"),
        ("after_get", "completed", "CAS hung up"),
    ],
)
def test_how_a_call_ends(transport, doc, status, reason):
    call = phone(transport, f"/doc/{doc}").dial(from_="+1", to="+2")
    assert (call.ended, call.status, call.end_reason) == (True, status, reason)
    with pytest.raises(CallEnded):
        call.silence()


def test_the_caller_can_hang_up(transport):
    call = phone(transport).dial(from_="+1", to="+2")
    call.hang_up()
    assert (call.ended, call.status, call.end_reason) == (True, "completed", "caller hung up")


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("/doc/record", UnsupportedVerb, "<Record>"),
        ("/doc/speech", UnsupportedVerb, "only dtmf"),
        ("/doc/not_response", TwimlError, "not <Response>"),
        ("/not_xml", TwimlError, "not TwiML"),
        ("/broken", WebhookError, "HTTP 500"),
    ],
)
def test_what_twilio_would_not_run_raises_clearly(transport, url, error, message):
    with pytest.raises(error, match=re.escape(message)):
        phone(transport, url).dial(from_="+1", to="+2")


def test_an_unreachable_server_is_a_webhook_error():
    for base in serve(make_app()):
        unreachable = base
    with pytest.raises(WebhookError, match="no answer"):
        Softphone(HttpTransport(unreachable, timeout=5)).dial(from_="+1", to="+2")


def test_a_redelivered_webhook_is_the_same_request(transport, app):
    call = phone(transport).dial(from_="+1", to="+2")
    call.press(AGENT)
    status, body = call.redeliver()
    assert status == 200 and body == call.last_body
    first, again = app.config["SEEN"][-2:]
    assert first == again


def test_an_outbound_call_is_answered_as_twilio_places_it(transport, app):
    call = phone(transport).answer("/doc/callback", from_="+15005550000", to="+15005550006")
    assert call.heard == ["Your delayed activation is complete.", "Press 1 to accept."]
    form = app.config["SEEN"][-1]["form"]
    assert (form["Direction"], form["CallStatus"]) == ("outbound-api", "in-progress")
    assert (form["From"], form["To"]) == ("+15005550000", "+15005550006")
    assert call.press("1") == "Seen."

    inline = phone(transport).answer(
        twiml=DOCS["callback"], from_="+15005550000", to="+15005550006"
    )
    assert inline.last_prompt == "Press 1 to accept."
    assert inline.press("1") == "Seen."
    assert app.config["SEEN"][-1]["form"]["Direction"] == "outbound-api"


def test_a_listener_hears_each_event_as_it_happens(transport):
    events = []
    call = phone(transport, listener=events.append).dial(from_="+1", to="+2")
    assert events == call.events
    assert [(e.kind, e.text) for e in events if e.kind != "request"] == [
        ("say", "Welcome to CAS."),
        ("say", "Key your agent ID."),
        ("gather", "Welcome to CAS. Key your agent ID."),
    ]


# The terminal softphone, over real HTTP with keys piped in.

CLEAN_ENV = {
    "CAS_URL": None,
    "TWILIO_AUTH_TOKEN": None,
    "CAS_PUBLIC_URL": None,
    "TWILIO_ACCOUNT_SID": None,
}


def run_dial(args: list[str], keys: str, **env: str | None):
    return CliRunner().invoke(dial, args, input=keys, env=CLEAN_ENV | env)


def test_cli_shows_prompts_and_the_transfer(server):
    result = run_dial(
        ["--url", server, "--auth-token", TOKEN, "--public-url", PUBLIC],
        f"{AGENT}\n{PIN}#\n0\n",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "CAS: Key your agent ID." in out
    assert "CAS: Key your PIN, then pound." in out
    assert "Call ended: transferred: Dial to number +15005550100 with {'txn': '4711'" in out
    assert "(4 keys)" in out and "(1 key)" in out
    assert PIN not in out


def test_cli_takes_its_settings_from_the_environment(server, app):
    sid = "AC" + "1" * 32
    env = {"CAS_URL": server, "TWILIO_AUTH_TOKEN": TOKEN, "CAS_PUBLIC_URL": PUBLIC}
    result = run_dial([], "\nh\n", TWILIO_ACCOUNT_SID=sid, **env)
    assert result.exit_code == 0, result.output
    assert {entry["form"]["AccountSid"] for entry in app.config["SEEN"]} == {sid}
    assert result.output.count("CAS: Key your agent ID.") == 2
    assert "CAS: We did not hear you." in result.output
    assert "(silence)" in result.output
    assert "Call ended: caller hung up." in result.output


def test_cli_hangs_up_at_end_of_input_and_refuses_non_keys(server):
    result = run_dial(["--url", server, "--auth-token", TOKEN, "--public-url", PUBLIC], "12x4\n")
    assert result.exit_code == 0, result.output
    assert "keys 0-9, * and # only" in result.output
    assert "Call ended: caller hung up." in result.output


def test_cli_reports_a_refused_call(server):
    result = run_dial(["--url", server, "--auth-token", "forged"], "")
    assert result.exit_code == 1
    assert "HTTP 403" in result.output


def test_cli_says_when_it_cannot_speak(server, tmp_path):
    result = run_dial(
        ["--url", server, "--auth-token", TOKEN, "--public-url", PUBLIC, "--speak"],
        "h\n",
        PATH=str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "espeak-ng is not installed" in result.output


def test_cli_speaks_through_espeak_ng(server, tmp_path):
    spoken = tmp_path / "spoken.txt"
    program = tmp_path / "espeak-ng"
    # Stands in for espeak-ng: takes the text on stdin as the real one does with --stdin.
    program.write_text(
        f'#!/bin/sh\n[ "$1" = --stdin ] && /bin/cat >> "{spoken}"\necho >> "{spoken}"\n'
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    result = run_dial(
        ["--url", server, "--auth-token", TOKEN, "--public-url", PUBLIC, "--speak"],
        "h\n",
        PATH=str(tmp_path) + os.pathsep + os.environ.get("PATH", ""),
    )
    assert result.exit_code == 0, result.output
    assert spoken.read_text().splitlines() == ["Welcome to CAS.", "Key your agent ID."]


@pytest.mark.parametrize(
    ("given", "webhook"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/voice"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/voice"),
        ("https://cas.example.com/ivr/voice", "https://cas.example.com/ivr/voice"),
    ],
)
def test_cli_url_names_the_server_or_the_webhook(given, webhook):
    assert voice_url(given) == webhook
