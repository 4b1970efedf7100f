"""What the app serves besides pages and TwiML: the hold chime and the icon.

The hold audio a caller hears between polls is a soft two-note chime, made once per process
from a few lines of arithmetic rather than shipped as a recording: nothing to license, and
Twilio caches it by URL. Twilio fetches `<Play>` media without a
signature, so this route is outside the signed webhooks; it carries nothing of any call.
"""

from __future__ import annotations

import io
import math
import wave
from functools import cache

from flask import Blueprint, Response, redirect, url_for

bp = Blueprint("media", __name__)

RATE = 8000  # samples a second: the telephone's own
# Two notes, then quiet; a chime every poll tells the caller the line is alive.
NOTES = ((660.0, 0.25), (880.0, 0.35))
QUIET = 0.4
VOLUME = 0.25  # a fraction of full scale: a hold chime, not an alarm


@cache
def chime() -> bytes:
    """Return the hold chime as 16-bit mono WAV bytes."""
    samples: list[int] = []
    for frequency, seconds in NOTES:
        count = int(RATE * seconds)
        for n in range(count):
            fade = min(1.0, n / 200, (count - n) / 400)  # no clicks at the edges
            value = VOLUME * fade * math.sin(2 * math.pi * frequency * n / RATE)
            samples.append(int(value * 32767))
    samples.extend([0] * int(RATE * QUIET))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
    return buffer.getvalue()


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask the root for an icon whatever the page says: send them the console's."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/audio/hold.wav")
def hold_wav() -> Response:
    """Serve the hold chime."""
    response = Response(chime(), mimetype="audio/wav")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
