"""The OIDC claims of a user: the one source for ID tokens and ``/userinfo``."""

from __future__ import annotations

from typing import Any

from .models import User

# Which scope releases which claim (OpenID Connect Core §5.4).
CLAIM_SCOPES: dict[str, str] = {
    "sub": "openid",
    "name": "profile",
    "nickname": "profile",
    "picture": "profile",
    "updated_at": "profile",
    "email": "email",
    "email_verified": "email",
}


def user_claims(user: User) -> dict[str, Any]:
    """Every standard claim we hold for ``user``; callers filter them by granted scope."""
    claims: dict[str, Any] = {
        "sub": str(user.sub),
        "name": user.name or user.email,
        "nickname": user.nickname or user.email.split("@", 1)[0],
        "updated_at": int(user.updated_at.timestamp()),
        "email": user.email,
        "email_verified": user.email_verified,
    }
    if user.picture:
        claims["picture"] = user.picture
    return claims


def claims_for_scopes(user: User, scopes: list[str] | set[str]) -> dict[str, Any]:
    granted = set(scopes)
    return {name: value for name, value in user_claims(user).items() if CLAIM_SCOPES[name] in granted}
