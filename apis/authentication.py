"""DRF authentication for resource servers: a bearer JWT access token, verified locally.

A view says which API it belongs to with an ``audience`` attribute. Verification reads
only in-process caches, so authenticating costs no database query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.request_log import request_log_annotate

from .dpop import DpopRefused, resource_request_check
from .tokens import InvalidToken, verify_access_token

REALM = "abc-identity"


@dataclass(frozen=True)
class TokenPrincipal:
    """Who an access token speaks for: a person (``sub`` is their subject) or a client."""

    sub: str
    client_id: str
    scopes: frozenset[str]
    claims: dict[str, Any] = field(repr=False, compare=False)

    is_authenticated = True
    is_anonymous = False

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> TokenPrincipal:
        return cls(
            sub=claims["sub"],
            client_id=claims["client_id"],
            scopes=frozenset(str(claims.get("scope", "")).split()),
            claims=claims,
        )

    @property
    def is_machine(self) -> bool:
        """A client_credentials token: the client acts for the organization, not a person."""
        return self.claims.get("gty") == "client-credentials"


def token_principal(request: Request) -> TokenPrincipal:
    """The principal of a request that BearerTokenAuthentication let in; anyone else is refused.

    DRF types ``request.user`` as a Django user; behind our authentication it is a
    TokenPrincipal, and this says so once for every view and permission that reads it.
    """
    principal = request.user
    if not isinstance(principal, TokenPrincipal):
        raise exceptions.NotAuthenticated()
    return principal


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class BearerTokenAuthentication(BaseAuthentication):
    """RFC 6750 bearer tokens from the ``Authorization`` header only (never query or body),
    and RFC 9449 DPoP-bound tokens under the ``DPoP`` scheme with their proof (apis.dpop)."""

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, dict[str, Any]] | None:
        try:
            header = get_authorization_header(request).split()
        except UnicodeEncodeError:
            return self._fail(request, "The Authorization header is not ASCII.")
        if not header or header[0].lower() not in (b"bearer", b"dpop"):
            return None
        scheme = header[0].decode("ascii").lower()
        if len(header) != 2:
            return self._fail(request, f"The Authorization header must be: {scheme.capitalize()} <token>.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            return self._fail(request, "The access token is malformed.")

        view = request.parser_context.get("view") if request.parser_context else None
        audience = getattr(view, "audience", None)
        if not audience:
            raise ImproperlyConfigured(f"{type(view).__name__} needs an `audience` (its API identifier).")
        try:
            claims = verify_access_token(token, audience=audience)
        except InvalidToken as error:
            return self._fail(request, str(error))
        try:
            resource_request_check(
                claims,
                scheme=scheme,
                proof=request.headers.get("DPoP"),
                method=request.method or "",
                path=request.path,
                token=token,
            )
        except DpopRefused as refused:
            request.dpop_refused = refused  # type: ignore[attr-defined]  # for authenticate_header
            failed = exceptions.AuthenticationFailed(refused.description, code=refused.error)
            failed.dpop_nonce = refused.nonce  # type: ignore[attr-defined]  # apis.exceptions adds it
            raise failed from refused
        principal = TokenPrincipal.from_claims(claims)
        request_log_annotate(
            client_id=principal.client_id, user_id=None if principal.is_machine else principal.sub
        )
        return principal, claims

    def _fail(self, request: Request, description: str):
        # Kept on the request for authenticate_header, which DRF calls without the exception;
        # DRF's Request accepts any attribute, its stub declares none.
        request.bearer_error = description  # type: ignore[attr-defined]
        raise exceptions.AuthenticationFailed(description, code="invalid_token")

    def authenticate_header(self, request: Request) -> str:
        refused = getattr(request, "dpop_refused", None)
        if isinstance(refused, DpopRefused):
            return refused.challenge(REALM)
        challenge = f'Bearer realm="{REALM}"'
        description = getattr(request, "bearer_error", None)
        if description:
            challenge += f', error="invalid_token", error_description="{_quoted(description)}"'
        return challenge
