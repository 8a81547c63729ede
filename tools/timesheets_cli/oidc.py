"""OpenID Connect for a public native client: discovery, the authorization response checks
(state, RFC 9207 ``iss``), and ID token verification against the provider's JWKS."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

TIMEOUT = 10
# The algorithms we accept on ID tokens: those the provider signs with, never "none" or HMAC.
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]


class LoginError(Exception):
    """The sign-in did not complete; the message says why, for the person at the terminal."""


def discover(http: requests.Session, issuer: str) -> dict[str, Any]:
    """The provider's metadata. Its ``issuer`` must be the one we asked (OpenID Connect
    Discovery §4.3): a document naming another issuer could steer every later check."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = http.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LoginError(f"Discovery failed at {url}: {error}") from error
    if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
        raise LoginError(f"{url} names another issuer ({metadata.get('issuer')!r}), not {issuer!r}.")
    if "S256" not in metadata.get("code_challenge_methods_supported", []):
        raise LoginError("The provider does not support PKCE with S256.")
    return metadata


def authorization_code(params: Mapping[str, str], *, state: str, issuer: str, iss_required: bool) -> str:
    """The code from an authorization response, after the checks a native app must make.

    ``state`` binds the response to the request this process made (CSRF). ``iss`` (RFC 9207)
    names who answered: a response from another provider, mixed up with ours, is refused,
    and when the provider says it always sends ``iss``, a response without it is refused too.
    Both are checked before anything else in the response is believed, errors included.
    """
    received_state = params.get("state", "")
    if not hmac.compare_digest(received_state.encode(), state.encode()):
        raise LoginError("The response's state is not the one this sign-in sent: refused (CSRF?).")
    received_iss = params.get("iss")
    if received_iss is None and iss_required:
        raise LoginError("The response has no iss although the provider always sends one: refused.")
    if received_iss is not None and received_iss != issuer:
        raise LoginError(f"The response comes from {received_iss!r}, not {issuer!r}: refused (mix-up).")
    if "error" in params:
        description = params.get("error_description", "")
        raise LoginError(f"The sign-in was not completed: {params['error']} {description}".strip())
    code = params.get("code")
    if not code:
        raise LoginError("The response has no authorization code.")
    return code


def id_token_verify(
    http: requests.Session, metadata: Mapping[str, Any], id_token: str, *, client_id: str, nonce: str | None
) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS), ``iss``, ``aud``
    (and ``azp`` when there are several audiences), ``exp`` and ``nonce`` all hold."""
    try:
        response = http.get(metadata["jwks_uri"], timeout=TIMEOUT)
        response.raise_for_status()
        keys = KeySet.import_key_set(response.json())
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except (requests.RequestException, ValueError, JoseError) as error:
        raise LoginError(f"The ID token could not be verified: {error}") from error
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    try:
        jwt.JWTClaimsRegistry(now=int(time.time()), leeway=30, **options).validate(token.claims)
    except JoseError as error:
        raise LoginError(f"The ID token was refused: {error}") from error
    audiences = token.claims["aud"]
    if isinstance(audiences, list) and len(audiences) > 1 and token.claims.get("azp") != client_id:
        raise LoginError("The ID token has several audiences and its azp is not this app.")
    return dict(token.claims)
