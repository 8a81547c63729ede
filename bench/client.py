"""Plain HTTP requests to 127.0.0.1 with the standard library (checks, sign-ins, warming)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    def cookies(self) -> dict[str, str]:
        found = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                found[name.strip()] = rest.split(";", 1)[0]
        return found

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def snippet(self) -> str:
        return f"HTTP {self.status}: " + self.body[:160].decode("utf-8", "replace").replace("\n", " ")


def fetch(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = "") -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body.encode() if body else None, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def basic(client_id: str, secret: str) -> str:
    """An HTTP Basic header value; both parts percent-encoded first, as RFC 6749 2.3.1 asks."""
    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def warm(count: int, send: Callable[[], Reply]) -> Reply:
    """``count`` requests, 8 at a time so that every worker serves some; the last reply."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: send(), range(count)))[-1]
