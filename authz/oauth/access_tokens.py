"""Our own access tokens read back by the server: introspection and revocation.

An access token is a self-contained JWT: what it is, whose it is and whether it still counts
come from its verified claims and the revocation list (``apis.revocation``), as at the APIs.
A machine client's tokens have no row at all.
"""

from __future__ import annotations

from typing import Any

import jwt

from apis.tokens import InvalidToken, verify_access_token
from authz.token_claims import userinfo_url


def verified_claims(token: str) -> dict[str, Any] | None:
    """The claims of one of our access tokens, verified as the API it names verifies them
    (signature, expiry, audience, the revocation list), or None.

    The token is self-contained: no row is needed (machine clients' tokens have none).
    """
    try:
        audiences = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.InvalidTokenError:
        return None
    named = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    endpoint = userinfo_url()
    apis = [audience for audience in named if isinstance(audience, str) and audience != endpoint]
    try:
        if apis:
            return verify_access_token(token, audience=apis[0])
        if endpoint in named:
            return verify_access_token(token, audience=endpoint, server_endpoint=True)
    except InvalidToken:
        return None
    return None


def api_audiences(claims: dict[str, Any]) -> list[str]:
    audiences = claims.get("aud", [])
    named = [audiences] if isinstance(audiences, str) else list(audiences)
    return [audience for audience in named if audience != userinfo_url()]
