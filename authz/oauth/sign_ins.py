"""How the person of a grant signed in, from /authorize to its last refreshed ID token.

The session is only there at /authorize. When the code is issued, how the session signed
in (RFC 8176 ``amr``, the ``acr`` stated for the request, ``auth_time``) rides on the code's
row, in its stored claims request under a key of ours; the code exchange takes it from
there, and a grant with refresh tokens keeps it in ``GrantSignIn``, next to its family's
start, so that every refreshed ID token states the same sign-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authz.models import GrantSignIn

# The key of the code's stored claims request that holds the sign-in. Whatever a client
# sends under it in ``claims`` is replaced before the code is saved (``claims_with_sign_in``).
_GRANT_KEY = "abc_sign_in"


@dataclass(frozen=True)
class SignIn:
    """What an ID token says of the sign-in: ``amr``, ``acr`` and ``auth_time`` (epoch s)."""

    amr: list[str]
    acr: str | None
    auth_time: int | None

    def as_json(self) -> dict[str, Any]:
        return {"amr": self.amr, "acr": self.acr, "auth_time": self.auth_time}

    @classmethod
    def from_json(cls, data: Any) -> SignIn | None:
        if not isinstance(data, dict) or not isinstance(data.get("amr"), list):
            return None
        acr, auth_time = data.get("acr"), data.get("auth_time")
        return cls(
            amr=[str(method) for method in data["amr"]],
            acr=acr if isinstance(acr, str) else None,
            auth_time=auth_time if isinstance(auth_time, int) else None,
        )

    def id_token_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"amr": self.amr}
        if self.acr:
            claims["acr"] = self.acr
        if self.auth_time is not None:
            claims["auth_time"] = self.auth_time
        return claims


def claims_request(claims: Any) -> dict[str, Any]:
    """The claims request as an object: oauthlib parses it for OpenID requests only, and
    leaves the string a plain OAuth request sent (or anything else) as it came."""
    if isinstance(claims, str):
        try:
            claims = json.loads(claims)
        except ValueError:
            return {}
    return claims if isinstance(claims, dict) else {}


def claims_with_sign_in(claims: Any, sign_in: SignIn | None) -> dict[str, Any]:
    """The claims request to store with a code: the client's, and our ``sign_in``."""
    stored = {name: value for name, value in claims_request(claims).items() if name != _GRANT_KEY}
    if sign_in is not None:
        stored[_GRANT_KEY] = sign_in.as_json()
    return stored


def claims_and_sign_in(stored: Any) -> tuple[dict[str, Any], SignIn | None]:
    """A code's stored claims request, split into the client's and the sign-in."""
    stored = claims_request(stored)
    claims = {name: value for name, value in stored.items() if name != _GRANT_KEY}
    return claims, SignIn.from_json(stored.get(_GRANT_KEY))


def grant_sign_in_keep(*, grant_id: Any, sign_in: SignIn) -> None:
    """With a grant's first refresh token (after ``grant_family_begin``): keep its sign-in."""
    auth_time = datetime.fromtimestamp(sign_in.auth_time, UTC) if sign_in.auth_time is not None else None
    GrantSignIn.objects.bulk_create(
        [GrantSignIn(family_id=grant_id, amr=sign_in.amr, acr=sign_in.acr or "", auth_time=auth_time)],
        ignore_conflicts=True,
    )


def grant_sign_in(token_family: Any) -> SignIn | None:
    """The sign-in of the family ``token_family``; None for a family begun before they were kept."""
    if token_family is None:
        return None
    found = GrantSignIn.objects.filter(family_id=token_family).first()
    if found is None:
        return None
    auth_time = int(found.auth_time.timestamp()) if found.auth_time is not None else None
    return SignIn(amr=list(found.amr), acr=found.acr or None, auth_time=auth_time)
