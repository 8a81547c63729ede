"""private_key_jwt (RFC 7523 §2.2 and §3, OIDC Core §9): a confidential client authenticates
with a short-lived JWT it signed with a private key whose public half it registered.

Every check refuses with ``AssertionRefused``, whose message becomes the ``invalid_client``
error_description. ``client_secret_jwt`` (an HMAC under the client secret) is not offered:
HS* is refused like ``none``, so the public key can never serve as an HMAC secret.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from accounts.checksums import token_checksum
from accounts.issuer import issuer_url
from clients.jwks import CLIENT_ASSERTION_TYPE
from clients.jwks_fetch import JwksUnavailable, client_jwks
from clients.models import Client
from clients.selectors import client_by_client_id

ASSERTION_TYPE = CLIENT_ASSERTION_TYPE
SIGNING_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
_KTY = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}
# An assertion is for one request: it may live five minutes at most; clocks may differ a little.
MAX_LIFETIME = 300
SKEW = 15
MAX_JTI_LENGTH = 256
# iat and nbf are checked with SKEW below (PyJWT would allow the same skew on exp too).
_DECODE_OPTIONS: Any = {
    "require": ["exp", "iss", "sub", "aud", "jti"],
    "verify_iat": False,
    "verify_nbf": False,
}


class AssertionRefused(Exception):
    """The client assertion is not acceptable; the message says why (error_description)."""


def assertion_sent(params: Mapping[str, Any]) -> bool:
    """Whether a request authenticates (or tries to) with a client assertion."""
    return bool(params.get("client_assertion") or params.get("client_assertion_type"))


def assertion_subject(assertion: str) -> str | None:
    """The client an assertion claims to come from (``sub``, unverified): for counting failures."""
    try:
        sub = jwt.decode(assertion, options={"verify_signature": False}).get("sub")
    except jwt.PyJWTError:
        return None
    return sub[:200] if isinstance(sub, str) else None


def assertion_audiences() -> list[str]:
    """What ``aud`` may name: the issuer (RFC 7523bis), the token endpoint (OIDC Core §9),
    or the pushed authorization request endpoint (RFC 9126 §2: all three MUST be accepted)."""
    return [settings.OIDC_ISSUER, issuer_url("oauth2_provider:token"), issuer_url("oauth2_provider:par")]


def client_assertion_authenticate(params: Mapping[str, Any], *, other_credentials: bool) -> Client:
    """The client whose valid, unused assertion ``params`` carry; else ``AssertionRefused``.

    ``other_credentials``: the request also sent a secret (HTTP Basic or client_secret) —
    one method per request, so that is refused too.
    """
    if other_credentials:
        raise AssertionRefused("Authenticate the client one way only: a client assertion or a secret.")
    if params.get("client_assertion_type") != ASSERTION_TYPE:
        raise AssertionRefused(f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = params.get("client_assertion")
    if not isinstance(assertion, str) or not assertion:
        raise AssertionRefused("client_assertion is missing.")
    header, unverified = _parts(assertion)
    client = _asserting_client(unverified, params.get("client_id"))
    claims = _verified_claims(assertion, header, client)
    _check_times(claims)
    _spend_jti(client, claims)
    return client


def _parts(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AssertionRefused("client_assertion is not a well-formed JWT.") from error
    if header.get("alg") not in SIGNING_ALGS:
        raise AssertionRefused(f"The assertion's alg must be one of {', '.join(SIGNING_ALGS)}.")
    return header, unverified


def _asserting_client(claims: dict[str, Any], client_id: object) -> Client:
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(sub, str) or not sub or iss != sub:
        raise AssertionRefused("The assertion's iss and sub must both be the client id.")
    if client_id is not None and client_id != sub:
        raise AssertionRefused("client_id is not the assertion's sub.")
    client = client_by_client_id(sub)
    if client is None or client.client_type != Client.CLIENT_CONFIDENTIAL:
        raise AssertionRefused("The assertion names no confidential application.")
    if client.token_endpoint_auth_method != Client.AuthMethod.PRIVATE_KEY_JWT:
        raise AssertionRefused(
            f"This application authenticates with {client.token_endpoint_auth_method}, not private_key_jwt."
        )
    return client


def _candidate_keys(client: Client, header: dict[str, Any], *, refresh: bool) -> list[dict[str, Any]]:
    try:
        keys = client_jwks(client, refresh=refresh)["keys"]
    except JwksUnavailable as error:
        raise AssertionRefused(str(error)) from error
    kid, kty = header.get("kid"), _KTY[header["alg"]]
    return [key for key in keys if key.get("kty") == kty and (kid is None or key.get("kid") == kid)]


def _verified_claims(assertion: str, header: dict[str, Any], client: Client) -> dict[str, Any]:
    keys = _candidate_keys(client, header, refresh=False)
    if not keys and client.jwks_uri and not client.jwks:
        keys = _candidate_keys(client, header, refresh=True)  # the application may have rotated
    if not keys:
        raise AssertionRefused("No registered key of the application matches the assertion's kid and alg.")
    for key in keys:
        try:
            return jwt.decode(
                assertion,
                key=jwt.PyJWK(key, algorithm=header["alg"]),
                algorithms=[header["alg"]],
                audience=assertion_audiences(),
                options=_DECODE_OPTIONS,
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as error:
            raise AssertionRefused("The assertion has expired.") from error
        except jwt.MissingRequiredClaimError as error:
            raise AssertionRefused(f"The assertion lacks the {error.claim} claim.") from error
        except jwt.InvalidAudienceError as error:
            raise AssertionRefused("The assertion's aud must be the issuer or the token endpoint.") from error
        except jwt.PyJWTError as error:
            raise AssertionRefused(f"The assertion is not valid: {error}.") from error
    raise AssertionRefused("The assertion's signature does not verify with the application's keys.")


def _check_times(claims: dict[str, Any]) -> None:
    now = time.time()
    exp, iat, nbf = claims["exp"], claims.get("iat"), claims.get("nbf")
    if exp > now + MAX_LIFETIME + SKEW:
        raise AssertionRefused(f"The assertion lives too long: exp may be at most {MAX_LIFETIME} s ahead.")
    for name, value in (("iat", iat), ("nbf", nbf)):
        if value is not None and (not isinstance(value, int | float) or value > now + SKEW):
            raise AssertionRefused(f"The assertion's {name} is in the future.")
    if iat is not None and exp - iat > MAX_LIFETIME + SKEW:
        raise AssertionRefused(f"The assertion lives too long: exp - iat may be at most {MAX_LIFETIME} s.")


def _spend_jti(client: Client, claims: dict[str, Any]) -> None:
    """One use per assertion (RFC 7523 §3 item 7), in the shared cache so that every worker
    agrees, kept until the assertion has expired anyway (``cache.add``: the first wins)."""
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise AssertionRefused(f"The assertion's jti must be a string of 1-{MAX_JTI_LENGTH} characters.")
    spent = token_checksum(f"{client.client_id} {jti}")
    key = f"client-assertion-jti:{spent}"
    if not cache.add(key, 1, timeout=int(claims["exp"] - time.time()) + SKEW + 1):
        raise AssertionRefused("This assertion was already used: send a new one (a new jti) each time.")
