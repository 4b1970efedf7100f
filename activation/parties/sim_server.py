"""A partner simulator's HTTP server: the standard library's ThreadingHTTPServer around a desk."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from activation.keyed import is_digits
from activation.parties.desk import Desk, Request, refusal

log = logging.getLogger("cas.partner_sim")

MAX_BODY = 1 << 20  # no request of the protocols comes near a megabyte


class PartnerServer:
    """Serves one desk over HTTP on a thread per connection."""

    def __init__(self, desk: Desk, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("DeskHandler", (_DeskHandler,), {"desk": desk})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True  # a slow answer in flight never holds up a stop
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL clients reach the desk at."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PartnerServer:
        """Start serving in a thread; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


class _DeskHandler(BaseHTTPRequestHandler):
    desk: Desk
    protocol_version = "HTTP/1.1"
    server_version = "cas-partner-sim"
    # Headers and body leave in one segment: written apart, the client's delayed ACK would
    # hold every answer some 40 ms.
    wbufsize = -1
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        pairs = parse_qs(parts.query, keep_blank_values=True)  # `limit=` is asked, and refused
        query = {name: values[-1] for name, values in pairs.items()}
        raw_length = self.headers.get("Content-Length") or "0"
        if not is_digits(raw_length, 1, 12) or int(raw_length) > MAX_BODY:
            answer = refusal(413, "too_large", f"a body is at most {MAX_BODY} bytes")
            self.close_connection = True
        else:
            body = self.rfile.read(int(raw_length))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = self.desk.handle(Request(self.command, parts.path, query, headers, body))
        if answer.delay:
            time.sleep(answer.delay)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        log.info("%s %s", self.address_string(), format % args)
