"""The loopback redirect (RFC 8252 §7.3): a one-shot HTTP listener on 127.0.0.1 and a port
the operating system picks, so the app needs no fixed port and no private-use scheme.

It listens on the IP literal, not ``localhost`` (§8.3: a name may resolve elsewhere or to
another interface), answers the browser with a page that says to go back to the terminal,
and hands the query of the first request to ``/callback`` to the app.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

CALLBACK_PATH = "/callback"
PAGE = (
    "<!doctype html><html lang='en'><meta charset='utf-8'><title>ABC Timesheets</title>"
    "<h1>{heading}</h1><p>You can close this window and go back to the terminal.</p></html>"
)


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.params is not None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        heading = "Signed in" if "code" in params else "Sign-in not completed"
        body = PAGE.format(heading=heading).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.server.params = params
        self.server.received.set()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the query holds the code: keep it out of the terminal


class LoopbackServer(HTTPServer):
    """``with LoopbackServer() as server``: ``server.redirect_uri``, then ``server.wait()``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.params: dict[str, str] | None = None
        self.received = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The callback's query parameters, or None when nothing came within ``timeout``."""
        self.received.wait(timeout)
        return self.params
