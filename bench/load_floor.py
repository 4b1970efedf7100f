"""The floor of bench_load: the least a durable call-flow webhook can cost.

Per webhook it locks its call's row in PostgreSQL, advances it, commits and answers a fixed
one-Gather TwiML document. Served by gunicorn with the settings `cas serve` uses, it is what
CAS's webhooks are measured against.

    gunicorn --pythonpath bench 'load_floor:create_app()'   (FLOOR_DATABASE_URL names the database)
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from sqlalchemy import text

from activation.store.db import make_engine

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/floor/gather?n=1" '
    'finishOnKey="#" input="dtmf" method="POST" timeout="6"><Say voice="Polly.Joanna">Please '
    "enter your agent I D, then press pound.</Say></Gather>"
    '<Redirect method="POST">/floor/gather?n=1</Redirect></Response>'
)

TABLE = (
    "CREATE TABLE IF NOT EXISTS floor_calls (call_sid varchar(40) PRIMARY KEY, "
    "seq integer NOT NULL, digits varchar(20), updated_at timestamptz NOT NULL)"
)


def create_app() -> Flask:
    """Create the floor app on the database FLOOR_DATABASE_URL names."""
    engine = make_engine(os.environ["FLOOR_DATABASE_URL"])
    app = Flask("floor")

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.post("/floor")
    def start() -> Response:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO floor_calls (call_sid, seq, updated_at) "
                    "VALUES (:sid, 1, now()) ON CONFLICT (call_sid) DO NOTHING"
                ),
                {"sid": request.form["CallSid"]},
            )
        return Response(TWIML, mimetype="text/xml")

    @app.post("/floor/gather")
    def gather() -> Response:
        with engine.begin() as conn:
            seq = conn.scalar(
                text("SELECT seq FROM floor_calls WHERE call_sid = :sid FOR UPDATE"),
                {"sid": request.form["CallSid"]},
            )
            conn.execute(
                text(
                    "UPDATE floor_calls SET seq = :seq, digits = :digits, updated_at = now() "
                    "WHERE call_sid = :sid"
                ),
                {
                    "seq": (seq or 0) + 1,
                    "digits": request.form.get("Digits"),
                    "sid": request.form["CallSid"],
                },
            )
        return Response(TWIML, mimetype="text/xml")

    return app
