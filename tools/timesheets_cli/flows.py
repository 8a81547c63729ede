"""The OAuth flows, with authlib's OAuth2Session: sign-in through the browser (Authorization
Code + PKCE S256 + a loopback redirect), refresh with rotation, and sign-out (RFC 7009
revocation, then RP-initiated logout)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from .dpop import DpopKey, DpopNotHonoured, token_request
from .loopback import LoopbackServer
from .oidc import TIMEOUT, LoginError, authorization_code, discover, id_token_verify

# What the mobile app asks for: who the person is, a refresh token, and its own time.
DEFAULT_SCOPE = "openid profile email offline_access read:timesheets create:timesheets"
# Refresh this long before the access token's expiry, so a call never races it.
LEEWAY = 30


class SignInNeeded(Exception):
    """There are no tokens, or the refresh token was refused: the person signs in again."""


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    audience: str
    api: str
    scope: str
    state_path: Path


def oauth_session(
    config: Config, metadata: dict[str, Any], *, http: requests.Session | None = None, **options: Any
) -> OAuth2Session:
    """An OAuth2Session for this public client: it authenticates with its client_id only."""
    session = OAuth2Session(
        client_id=config.client_id,
        token_endpoint_auth_method="none",  # noqa: S106 - a method's name, not a password
        revocation_endpoint_auth_method="none",
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
        default_timeout=TIMEOUT,
        **options,
    )
    if http is not None:
        session.hooks = http.hooks
    return session


def new_state(
    config: Config,
    metadata: dict[str, Any],
    token: dict[str, Any],
    claims: dict[str, Any],
    dpop: DpopKey | None = None,
) -> dict[str, Any]:
    """What the state file keeps after a sign-in: the tokens, where to use them, and the
    DPoP key they are bound to."""
    return {
        "issuer": metadata["issuer"],
        "client_id": config.client_id,
        "audience": config.audience,
        "endpoints": {
            name: metadata.get(name)
            for name in ("token_endpoint", "revocation_endpoint", "end_session_endpoint", "jwks_uri")
        },
        "token": dict(token),
        "id_token": token.get("id_token"),
        "subject": claims.get("sub"),
        "email": claims.get("email"),
        "dpop_key": dpop.to_state() if dpop else None,
    }


def dpop_start(http: requests.Session, metadata: dict[str, Any], dpop: DpopKey | None) -> None:
    """Check the provider offers DPoP with our algorithm, and keep the nonces it sends."""
    if dpop is None:
        return
    if "ES256" not in metadata.get("dpop_signing_alg_values_supported", []):
        raise LoginError("The provider does not offer DPoP with ES256 (dpop_signing_alg_values_supported).")
    http.hooks["response"].append(dpop.remember_nonce)


def token_call(
    dpop: DpopKey | None, url: str, call: Callable[[dict[str, str] | None], dict[str, Any]]
) -> dict[str, Any]:
    """A token request (with a DPoP proof when the app has a key); its refusals as LoginError."""
    try:
        return token_request(dpop, url, call)
    except DpopNotHonoured as error:
        raise LoginError(str(error)) from error


def login(
    config: Config,
    http: requests.Session,
    *,
    show: Callable[[str], None],
    timeout: float = 300,
    dpop: DpopKey | None = None,
) -> dict[str, Any]:
    """Sign in through the browser; return the new state (not yet saved).

    ``show(url)`` puts the authorization URL in front of the person: the system browser
    (never an embedded web view, RFC 8252 §8.12, so the app never sees the password), or
    the terminal. The verifier, state and nonce are fresh for every attempt and never leave
    this process except as the S256 challenge.
    """
    metadata = discover(http, config.issuer)
    dpop_start(http, metadata, dpop)
    verifier, state, nonce = generate_token(64), generate_token(32), generate_token(32)
    with LoopbackServer() as server:
        session = oauth_session(
            config, metadata, http=http, redirect_uri=server.redirect_uri, scope=config.scope
        )
        url, _ = session.create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            resource=config.audience,
        )
        show(url)
        params = server.wait(timeout)
    if params is None:
        raise LoginError(f"No answer from the browser within {timeout:.0f} seconds.")
    code = authorization_code(
        params,
        state=state,
        issuer=metadata["issuer"],
        iss_required=bool(metadata.get("authorization_response_iss_parameter_supported")),
    )
    try:
        token = token_call(
            dpop,
            metadata["token_endpoint"],
            lambda headers: session.fetch_token(
                code=code, code_verifier=verifier, grant_type="authorization_code", headers=headers
            ),
        )
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise LoginError(f"The token endpoint refused the code: {error}") from error
    claims = id_token_verify(
        http, metadata, token.get("id_token", ""), client_id=config.client_id, nonce=nonce
    )
    return new_state(config, metadata, token, claims, dpop)


def token_fresh(token: dict[str, Any], now: float | None = None) -> bool:
    expires_at = token.get("expires_at")
    return expires_at is None or float(expires_at) - LEEWAY > (now or time.time())


def refresh(
    config: Config, http: requests.Session, state: dict[str, Any], dpop: DpopKey | None = None
) -> dict[str, Any]:
    """New tokens from the refresh token; return the state to save.

    The server rotates refresh tokens: the answer carries a new one and the old one is spent,
    so the new one must be saved before anything else happens (a refresh token used twice
    revokes the whole family). A refused refresh means the person signs in again.
    """
    token = state.get("token") or {}
    if not token.get("refresh_token"):
        raise SignInNeeded("The access token has expired and there is no refresh token: run `login` again.")
    session = oauth_session(config, state["endpoints"], http=http, token=token)
    endpoint = state["endpoints"]["token_endpoint"]
    try:
        new = token_request(
            dpop,
            endpoint,
            lambda headers: session.refresh_token(
                endpoint, refresh_token=token["refresh_token"], headers=headers
            ),
        )
    except OAuthError as error:
        raise SignInNeeded(f"The sign-in has ended ({error.error}): run `login` again.") from error
    except DpopNotHonoured as error:
        raise SignInNeeded(f"{error} Run `login --dpop` again.") from error
    id_token = new.get("id_token")
    if id_token:
        _refreshed_id_token_check(http, state, id_token)
    return {**state, "token": dict(new), "id_token": id_token or state.get("id_token")}


def _refreshed_id_token_check(http: requests.Session, state: dict[str, Any], id_token: str) -> None:
    """OpenID Connect Core §12.2: a refreshed ID token is verified like the first, and speaks
    for the same person; one that does not is a reason to stop, not to carry on."""
    metadata = {"issuer": state["issuer"], "jwks_uri": state["endpoints"]["jwks_uri"]}
    try:
        claims = id_token_verify(http, metadata, id_token, client_id=state["client_id"], nonce=None)
    except LoginError as error:
        raise SignInNeeded(f"{error} Run `login` again.") from error
    if state.get("subject") and claims.get("sub") != state["subject"]:
        raise SignInNeeded("The refreshed ID token is about someone else: run `login` again.")


def revoke(config: Config, http: requests.Session, state: dict[str, Any]) -> bool:
    """Revoke the refresh token (RFC 7009), which ends its access tokens' family too."""
    endpoint = state["endpoints"].get("revocation_endpoint")
    token = (state.get("token") or {}).get("refresh_token")
    if not endpoint or not token:
        return False
    session = oauth_session(config, state["endpoints"], http=http)
    response = session.revoke_token(endpoint, token=token, token_type_hint="refresh_token")  # noqa: S106
    return response.status_code == 200


def end_session_url(state: dict[str, Any], *, post_logout_redirect_uri: str | None) -> str | None:
    """RP-initiated logout: the provider's end-session URL with ``id_token_hint`` (it says
    which session and which app, so the provider need not ask), or None if it has none."""
    endpoint = state["endpoints"].get("end_session_endpoint")
    if not endpoint:
        return None
    query = {"client_id": state["client_id"]}
    if state.get("id_token"):
        query["id_token_hint"] = state["id_token"]
    if post_logout_redirect_uri:
        query["post_logout_redirect_uri"] = post_logout_redirect_uri
    return f"{endpoint}?{urlencode(query)}"
