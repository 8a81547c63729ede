"""Catalogue: the public keys an application registers for private_key_jwt.

A pasted JWKS holds public signing keys only; a jwks_uri is https, fetched with a time and
size limit, never from a private address (unless the setting allows it: the tests' local
server), cached in the shared cache and refetched once when an unknown kid shows up.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from clients import jwks_fetch
from clients.jwks_fetch import JwksUnavailable, client_jwks
from clients.models import Client
from clients.services import client_create, client_grant_set, client_update
from tests.oauth import TIMESHEETS_API

from .helpers import assert_token_error
from .pkjwt import KeyPair, assertion_params, claims_for, key_client, post

pytestmark = pytest.mark.django_db
CC = {"grant_type": "client_credentials", "audience": TIMESHEETS_API}


@dataclass
class KeyServer:
    """A local HTTP server publishing a JWKS: what it answers, how slowly, and how often asked."""

    body: bytes = b'{"keys": []}'
    delay: float = 0.0
    hits: int = 0
    url: str = ""
    server: Any = field(default=None, repr=False)

    def publish(self, jwks: dict) -> None:
        self.body = json.dumps(jwks).encode()


@pytest.fixture
def key_server(settings) -> Iterator[KeyServer]:
    settings.JWKS_URI_ALLOW_PRIVATE = True
    state = KeyServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            state.hits += 1
            time.sleep(state.delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up: what the timeout test wants
                self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url, state.server = f"http://127.0.0.1:{server.server_address[1]}/jwks.json", server
    yield state
    server.shutdown()
    server.server_close()


def _token(key: KeyPair, client: Client):
    return post("/oauth/token", {**CC, **assertion_params(key.sign(claims_for(client.client_id)))})


# --- Registration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        (lambda key: key.private_jwk(), '"keys" list'),
        (lambda key: {"keys": [key.private_jwk()]}, "private key"),
        (lambda key: {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "symmetric"),
        (lambda key: {"keys": [{"kty": "RSA", "e": "AQAB"}]}, "lacks n"),
        (lambda key: {"keys": [{**key.public_jwk(), "kty": "DSA"}]}, "kty must be"),
        (lambda key: {"keys": []}, "no keys"),
        (lambda key: {"keys": [{**key.public_jwk(), "n": "AQAB"}]}, "at least 2048 bits"),
        (lambda key: {"keys": [key.public_jwk()] * 2}, "same kid"),
        (lambda key: {"keys": [{**key.public_jwk(), "use": "enc"}]}, "use"),
        (lambda key: {"keys": [{**key.public_jwk(), "pad": "x" * 70_000}]}, "larger than 64 KB"),
    ],
)
def test_only_public_signing_keys_may_be_registered(jwks, message):
    with pytest.raises(ValidationError) as refused:
        key_client(Client.AppType.M2M, None, jwks=jwks(KeyPair.new()))
    assert message in str(refused.value.message_dict["jwks"])


def test_private_key_jwt_needs_keys_and_either_a_jwks_or_a_url():
    with pytest.raises(ValidationError) as refused:
        key_client(Client.AppType.M2M, None)
    assert "public keys" in str(refused.value.message_dict["jwks"])
    key = KeyPair.new()
    with pytest.raises(ValidationError) as both:
        key_client(Client.AppType.M2M, key, jwks_uri="https://keys.example.com/jwks.json")
    assert "not both" in str(both.value.message_dict["jwks_uri"])


def test_public_apps_cannot_use_private_key_jwt():
    with pytest.raises(ValidationError):
        client_create(
            app_type=Client.AppType.NATIVE,
            name="Mobile",
            redirect_uris=["com.abcinc.app://cb"],
            token_endpoint_auth_method=Client.AuthMethod.PRIVATE_KEY_JWT,
            jwks=KeyPair.new().jwks(),
        )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://keys.example.com/jwks.json", "https"),
        ("http://127.0.0.1:8000/jwks.json", "https"),
        ("https://10.0.0.7/jwks.json", "public address"),
        ("https://localhost/jwks.json", "public address"),
        ("https://user:pw@keys.example.com/jwks.json", "credentials"),
    ],
)
def test_a_jwks_uri_must_be_public_https(uri, message):
    with pytest.raises(ValidationError) as refused:
        key_client(Client.AppType.M2M, None, jwks_uri=uri)
    assert message in str(refused.value.message_dict["jwks_uri"])


def test_switching_a_secret_client_to_private_key_jwt_keeps_its_secret_unusable(confidential_client):
    client, _secret = confidential_client
    key = KeyPair.new()
    client_update(
        client=client, token_endpoint_auth_method=Client.AuthMethod.PRIVATE_KEY_JWT, jwks=key.jwks()
    )
    client.refresh_from_db()
    assert client.token_endpoint_auth_method == "private_key_jwt"
    with pytest.raises(ValidationError):
        client_update(client=client, jwks=None)


# --- Fetching a jwks_uri -----------------------------------------------------------------------


def test_keys_come_from_the_jwks_uri_cached_and_refetched_for_a_new_kid(key_server, timesheets_api):
    key = KeyPair.new("ES256")
    key_server.publish(key.jwks())
    client, _ = key_client(Client.AppType.M2M, None, jwks_uri=key_server.url)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    assert _token(key, client).status_code == HTTPStatus.OK
    assert _token(key, client).status_code == HTTPStatus.OK
    assert key_server.hits == 1  # the second request used the shared cache
    rotated = KeyPair.new("ES256")
    key_server.publish(rotated.jwks())
    assert _token(rotated, client).status_code == HTTPStatus.OK
    assert key_server.hits == 2
    # An unknown kid again, right away: no second refetch, no token.
    stranger = KeyPair.new("ES256")
    response = _token(stranger, client)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert key_server.hits == 2


def test_a_slow_jwks_uri_times_out(key_server, monkeypatch):
    monkeypatch.setattr(jwks_fetch, "FETCH_SECONDS", 0.3)
    key_server.delay = 1.5
    with pytest.raises(JwksUnavailable, match="longer than"):
        jwks_fetch.jwks_fetch(key_server.url)


def test_an_oversized_jwks_is_refused(key_server, timesheets_api):
    key = KeyPair.new()
    key_server.body = json.dumps({"keys": [key.public_jwk()], "padding": "x" * 70_000}).encode()
    client, _ = key_client(Client.AppType.M2M, None, jwks_uri=key_server.url)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    response = _token(key, client)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert "larger than 64 KB" in response.json()["error_description"]


def test_a_jwks_uri_serving_a_private_key_is_refused(key_server):
    key = KeyPair.new()
    key_server.publish({"keys": [key.private_jwk()]})
    with pytest.raises(JwksUnavailable, match="private key"):
        jwks_fetch.jwks_fetch(key_server.url)


def test_plain_http_is_never_fetched_even_when_local_addresses_are_allowed(settings):
    settings.JWKS_URI_ALLOW_PRIVATE = True
    with pytest.raises(JwksUnavailable, match="https"):
        jwks_fetch.jwks_fetch("http://keys.example.com/jwks.json")


def test_a_name_resolving_to_a_private_address_is_not_fetched(monkeypatch, settings):
    settings.JWKS_URI_ALLOW_PRIVATE = False
    connected: list[Any] = []

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a))
    for uri in ("https://keys.example.com/jwks.json", "https://metadata.example.com/latest"):
        with pytest.raises(JwksUnavailable, match="private address"):
            jwks_fetch.jwks_fetch(uri)
    assert connected == []


def test_a_local_key_server_is_refused_without_the_setting(key_server, settings, timesheets_api):
    key = KeyPair.new()
    key_server.publish(key.jwks())
    client, _ = key_client(Client.AppType.M2M, None, jwks_uri=key_server.url)
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    settings.JWKS_URI_ALLOW_PRIVATE = False
    response = _token(key, client)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert "https" in response.json()["error_description"]
    assert key_server.hits == 0


def test_a_pasted_jwks_is_used_as_is(key_server):
    key = KeyPair.new()
    client, _ = key_client(Client.AppType.M2M, key)
    assert client_jwks(client) == key.jwks()
    assert key_server.hits == 0
