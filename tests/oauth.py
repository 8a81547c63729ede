"""Helpers that play the part of an OAuth client in tests."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client as HttpClient
from jwcrypto import jwk, jwt

ISSUER = "http://testserver"
MOBILE_CALLBACK = "com.abcinc.timesheets://callback"
LOOPBACK_CALLBACK = "http://127.0.0.1/callback"
TIMESHEETS_API = "https://timesheets.abcinc.example/api"


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_url(client_id: str | None, pkce: Pkce | None = None, **params: str | None) -> str:
    """The authorization request; a parameter given as None is left out."""
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": MOBILE_CALLBACK,
        "scope": "openid profile email",
        "state": "state-" + secrets.token_urlsafe(8),
        "nonce": "nonce-" + secrets.token_urlsafe(8),
    }
    if pkce is not None:
        query |= {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    query |= params
    return "/authorize?" + urlencode({k: v for k, v in query.items() if v is not None})


def redirect_params(response) -> dict[str, str]:
    """The query of a redirect to the client, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(response["Location"]).query).items()}


def consent(http: HttpClient, url: str):
    """Load the consent page for ``url`` and press Allow; returns the redirect.

    When the person already allowed the same (a remembered consent), there is no page to
    press anything on: the authorization endpoint redirects at once.
    """
    page = http.get(url)
    if page.status_code == 302 and page["Location"].split("?")[0] != "/login/":
        return page
    assert page.status_code == 200, page.content
    return http.post("/authorize", {**consent_fields(page), "allow": "Authorize"})


def consent_fields(page) -> dict[str, str]:
    """The hidden fields of the consent form, as the browser would post them."""
    return {name: value for name, value in page.context["form"].initial.items() if value is not None}


def get_code(http: HttpClient, client_id: str, pkce: Pkce, **params: str | None) -> str:
    response = consent(http, authorize_url(client_id, pkce, **params))
    assert response.status_code == 302, response.content
    return redirect_params(response)["code"]


def exchange(http: HttpClient, client_id: str, code: str, verifier: str | None, **extra: str):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_CALLBACK,
        "client_id": client_id,
        "code_verifier": verifier,
        **extra,
    }
    return HttpClient().post("/oauth/token", {k: v for k, v in data.items() if v is not None})


def jwks(http: HttpClient) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(http.get("/.well-known/jwks.json").content)


def verify(token: str, keys: jwk.JWKSet, **expected_claims) -> dict:
    """Verify a JWT's RS256 signature, ``exp`` and the given claims; return its claims."""
    checked = jwt.JWT(jwt=token, key=keys, algs=["RS256"], check_claims={"exp": None, **expected_claims})
    return json.loads(checked.claims)


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def client_credentials(client_id: str, secret: str, **params: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", **params},
        HTTP_AUTHORIZATION=basic_auth(client_id, secret),
    )
