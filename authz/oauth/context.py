"""The typed state of one authorization or token request: what it is for and what was decided.

oauthlib hands the same ``Request`` to each of our hooks in turn (validator methods, custom
validators, the token generator and token modifiers). What one hook establishes and a later
one needs (the API the request is for, the person, the scope decisions, the rules' result,
the grant and the claims minted) lives in one ``TokenRequestContext``, attached to the
request once and read through ``request_context()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from oauth2_provider.models import AbstractRefreshToken
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.mfa.context import Authentication
from accounts.models import User
from apis.models import Api
from apis.selectors import api_by_identifier
from authz.policy import ScopeDecision
from authz.rules import RuleContext
from clients.models import Client

from .sign_ins import SignIn

CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type, not a secret

# The person signed in to this server while oauthlib validates an authorization request.
# oauthlib builds its own Request from the URL and headers alone, so the session's user
# cannot travel on it; it is set around that one call by our backend, from the Django
# session, never from anything the client sends.
_signed_in: ContextVar[User | None] = ContextVar("oauth_signed_in_user", default=None)
# How that person signed in, from the same session (accounts.mfa.context).
_signed_in_by: ContextVar[Authentication | None] = ContextVar("oauth_signed_in_by", default=None)


@contextmanager
def signed_in(user: Any, authentication: Authentication | None = None) -> Iterator[None]:
    """Make ``user`` (a Django request's user) the signed-in person for the block, signed
    in as ``authentication`` says."""
    person = user if user is not None and user.is_authenticated else None
    reset = _signed_in.set(person)
    reset_by = _signed_in_by.set(authentication if person is not None else None)
    try:
        yield
    finally:
        _signed_in_by.reset(reset_by)
        _signed_in.reset(reset)


def signed_in_authentication() -> Authentication | None:
    """How the person signed in to this server signed in (at /authorize only)."""
    return _signed_in_by.get()


@dataclass
class TokenRequestContext:
    """What the hooks of one request have established so far.

    ``user`` is the person the token is for: the signed-in person at /authorize, the
    person of the code or refresh token at /oauth/token (set once that is validated), and
    None for a machine client.
    """

    client: Client
    audience: Api | None
    user: User | None
    machine: bool
    client_grant: frozenset[str] | None = None
    decisions: tuple[ScopeDecision, ...] = ()
    rules: RuleContext | None = None
    grant_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    id_token: Any = None  # the ID token row saved for this request, if any
    # How the person signed in: the session's at /authorize, the code's or the refresh
    # family's at /oauth/token (None for a machine client or a family from before).
    sign_in: SignIn | None = None

    @property
    def audience_identifier(self) -> str:
        return self.audience.identifier if self.audience is not None else ""

    @property
    def rule_access_token_claims(self) -> dict[str, Any]:
        return self.rules.access_token_claims if self.rules is not None else {}

    @property
    def rule_id_token_claims(self) -> dict[str, Any]:
        return self.rules.id_token_claims if self.rules is not None else {}


_ATTRIBUTE = "abc_context"


def request_context(request: Request) -> TokenRequestContext:
    """The request's context, made the first time a hook asks (the client is known then)."""
    context = getattr(request, _ATTRIBUTE, None)
    if context is None:
        machine = request.grant_type == CLIENT_CREDENTIALS
        context = TokenRequestContext(
            client=request_client(request),
            audience=_audience_api(request),
            user=None if machine else request.user or _signed_in.get(),
            machine=machine,
        )
        setattr(request, _ATTRIBUTE, context)
    return context


# oauthlib types what it carries loosely (every attribute may be None); by the time one of
# our hooks runs, these are set. The casts say so once, here, instead of in every hook.


def request_client(request: Request) -> Client:
    """The client oauthlib has loaded (authorization request) or authenticated (token)."""
    return cast(Client, request.client)


def request_scopes(request: Request) -> list[str]:
    return list(request.scopes or ())


def refresh_token_instance(request: Request) -> AbstractRefreshToken:
    """The refresh token a refresh request presents, once DOT has validated it."""
    return cast(AbstractRefreshToken, request.refresh_token_instance)


def requested_audience(request: Request) -> str | None:
    """The one API identifier this request is for, or None for a /userinfo-only token."""
    resource: Any
    if request.grant_type == REFRESH_TOKEN:
        resource = refresh_token_instance(request).resource
    else:
        resource = getattr(request, "resource", None)
    if isinstance(resource, str):
        # oauthlib keeps the last of repeated parameters; RFC 8707 allows repeating it.
        sent = [*request.uri_query_params, *(request.decoded_body or [])]
        resource = [value for name, value in sent if name == "resource"] or [resource]
    identifiers = list(dict.fromkeys(value for value in resource or [] if value))
    if len(identifiers) > 1:
        raise errors.CustomOAuth2Error(
            error="invalid_target", description="Ask for one audience per token.", request=request
        )
    return identifiers[0] if identifiers else None


def _audience_api(request: Request) -> Api | None:
    """The registered API the request names; an unknown one is ``invalid_target``."""
    identifier = requested_audience(request)
    if identifier is None:
        return None
    api = api_by_identifier(identifier)
    if api is None:
        raise errors.CustomOAuth2Error(
            error="invalid_target", description=f"Unknown audience: {identifier}", request=request
        )
    return api
