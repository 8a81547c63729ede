"""Fetching an application's ``jwks_uri``: bounded in time and size, cached in the shared cache,
and never to an address inside our network.

The host is resolved once, every address it resolves to must be public (unless
``JWKS_URI_ALLOW_PRIVATE`` is on, for tests), and the connection goes to the address that was
checked, so a name cannot be re-resolved to a private address in between (DNS rebinding).
Redirects are not followed: a redirect could point anywhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache

from accounts.checksums import token_checksum

from .jwks import MAX_JWKS_BYTES, jwks_problems, jwks_uri_problem, local_jwks_uris_allowed
from .models import Client

FETCH_SECONDS = 3.0
CACHE_SECONDS = 300
# An unknown kid refetches the set (the application rotated its key), at most this often.
REFETCH_SECONDS = 30


class JwksUnavailable(Exception):
    """The application's keys could not be had; the message says why, for error_description."""


def client_jwks(client: Client, *, refresh: bool = False) -> dict[str, Any]:
    """The key set that signs ``client``'s assertions: the pasted one, else its ``jwks_uri``'s
    (from the shared cache unless ``refresh``, which refetches at most every 30 s)."""
    if client.jwks:
        return client.jwks
    if not client.jwks_uri:
        raise JwksUnavailable("The application has no registered keys (jwks or jwks_uri).")
    key = f"jwks-uri:{token_checksum(client.jwks_uri)[:40]}"
    cached = cache.get(key)
    if cached is not None and not (refresh and cache.add(f"{key}:refetch", 1, REFETCH_SECONDS)):
        return cached
    jwks = jwks_fetch(client.jwks_uri)
    cache.set(key, jwks, CACHE_SECONDS)
    return jwks


def jwks_fetch(uri: str) -> dict[str, Any]:
    """GET ``uri``'s JSON Web Key Set (public keys only), or ``JwksUnavailable``."""
    problem = jwks_uri_problem(uri)
    if problem:
        raise JwksUnavailable(problem)
    parts = urlsplit(uri)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_address(host, port)
    deadline = time.monotonic() + FETCH_SECONDS
    connection = _connection(parts.scheme, host, port, address)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Accept": "application/jwk-set+json, application/json"})
        response = connection.getresponse()
        if response.status != 200:
            raise JwksUnavailable(f"The JWKS URL answered HTTP {response.status}.")
        body = _read_bounded(response, deadline)
    except TimeoutError as error:
        raise JwksUnavailable(f"The JWKS URL took longer than {FETCH_SECONDS:g} s.") from error
    except (OSError, http.client.HTTPException) as error:
        raise JwksUnavailable(f"The JWKS URL could not be fetched ({type(error).__name__}).") from error
    finally:
        connection.close()
    try:
        jwks = json.loads(body)
    except ValueError as error:
        raise JwksUnavailable("The JWKS URL did not answer JSON.") from error
    problems = jwks_problems(jwks)
    if problems:
        raise JwksUnavailable(f"The JWKS URL's key set is refused: {problems[0]}")
    return jwks


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise JwksUnavailable("The JWKS URL's host does not resolve.") from error
    addresses = [str(info[4][0]) for info in infos]
    if not local_jwks_uris_allowed() and any(not ipaddress.ip_address(a).is_global for a in addresses):
        raise JwksUnavailable("The JWKS URL resolves to a private address.")
    return addresses[0]


def _connection(scheme: str, host: str, port: int, address: str) -> http.client.HTTPConnection:
    """A connection to ``address`` (the checked one) that speaks to ``host`` (TLS name, Host)."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=FETCH_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=FETCH_SECONDS)

    def connect_to_checked(_address, timeout, source_address=None):
        return socket.create_connection((address, port), timeout, source_address)

    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]  # http.client's hook
    return connection


def _read_bounded(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, refused past ``MAX_JWKS_BYTES`` or the deadline (a slow drip included)."""
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > MAX_JWKS_BYTES:
        raise JwksUnavailable(f"The JWKS URL's answer is larger than {MAX_JWKS_BYTES // 1024} KB.")
    body = b""
    while chunk := response.read1(8192):
        body += chunk
        if len(body) > MAX_JWKS_BYTES:
            raise JwksUnavailable(f"The JWKS URL's answer is larger than {MAX_JWKS_BYTES // 1024} KB.")
        if time.monotonic() > deadline:
            raise JwksUnavailable(f"The JWKS URL took longer than {FETCH_SECONDS:g} s.")
    return body
