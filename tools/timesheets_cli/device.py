"""The device authorization grant (RFC 8628): for a terminal with no browser at hand, the
person types a short code on another device while this process polls the token endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError

from .dpop import DpopKey
from .flows import Config, dpop_start, new_state, oauth_session, token_call
from .oidc import TIMEOUT, LoginError, discover, id_token_verify

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5  # RFC 8628 §3.2: when the server names none
SLOW_DOWN_STEP = 5  # §3.5: slow_down adds five seconds to every later wait
EXPIRED = "The code expired before it was entered: run `device-login` again."


def device_authorize(http: requests.Session, metadata: dict[str, Any], config: Config) -> dict[str, Any]:
    """Ask for a device code and a user code (§3.1, §3.2)."""
    endpoint = metadata.get("device_authorization_endpoint")
    if not endpoint:
        raise LoginError("The provider does not offer the device flow (no device_authorization_endpoint).")
    data = {"client_id": config.client_id, "scope": config.scope, "resource": config.audience}
    try:
        response = http.post(endpoint, data=data, timeout=TIMEOUT)
        answer = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LoginError(f"The device authorization request failed: {error}") from error
    if response.status_code != 200 or not isinstance(answer, dict):
        reason = answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
        raise LoginError(f"The device authorization request was refused: {reason or response.status_code}")
    missing = {"device_code", "user_code", "verification_uri", "expires_in"} - answer.keys()
    if missing:
        raise LoginError(f"The device authorization response lacks {', '.join(sorted(missing))}.")
    return answer


def device_poll(
    config: Config,
    http: requests.Session,
    metadata: dict[str, Any],
    authorization: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    dpop: DpopKey | None = None,
) -> dict[str, Any]:
    """Poll the token endpoint until the person answers (§3.4, §3.5); return the token.

    ``authorization_pending``: ask again after the interval. ``slow_down``: the interval grows
    by five seconds for good. ``access_denied`` and ``expired_token`` end it, and so does the
    code's own ``expires_in`` passing on our clock.
    """
    session = oauth_session(config, metadata, http=http)
    interval = float(authorization.get("interval") or DEFAULT_INTERVAL)
    deadline = clock() + float(authorization["expires_in"])
    while True:
        sleep(interval)
        if clock() >= deadline:
            raise LoginError(EXPIRED)
        try:
            return token_call(
                dpop,
                metadata["token_endpoint"],
                lambda headers: session.fetch_token(
                    grant_type=DEVICE_CODE_GRANT, device_code=authorization["device_code"], headers=headers
                ),
            )
        except OAuthError as error:
            if error.error == "authorization_pending":
                continue
            if error.error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if error.error == "access_denied":
                raise LoginError("The request was denied on the other device.") from error
            if error.error == "expired_token":
                raise LoginError(
                    "The code expired before it was entered: run `device-login` again."
                ) from error
            raise LoginError(f"The token endpoint refused the device code: {error}") from error


def device_login(
    config: Config,
    http: requests.Session,
    *,
    show: Callable[[dict[str, Any]], None],
    sleep: Callable[[float], None] = time.sleep,
    dpop: DpopKey | None = None,
) -> dict[str, Any]:
    """Sign in with the device flow; return the new state (not yet saved)."""
    metadata = discover(http, config.issuer)
    dpop_start(http, metadata, dpop)
    authorization = device_authorize(http, metadata, config)
    show(authorization)
    token = device_poll(config, http, metadata, authorization, sleep=sleep, dpop=dpop)
    claims: dict[str, Any] = {}
    if token.get("id_token"):
        # No nonce in this flow: iss, aud, exp and the signature still hold.
        claims = id_token_verify(http, metadata, token["id_token"], client_id=config.client_id, nonce=None)
    return new_state(config, metadata, token, claims, dpop)
