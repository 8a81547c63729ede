"""Issuing tokens: oauthlib's hooks that apply the token policy and mint the access token.

One code path serves every grant. Auth0's ``audience`` parameter is treated as an RFC 8707
``resource`` indicator, so django-oauth-toolkit carries it from ``/authorize`` through the
code and the refresh token without help. Each hook reads and writes the request's
``TokenRequestContext``.
"""

from __future__ import annotations

import uuid
from functools import partial
from http import HTTPStatus
from typing import Any

from django.db import transaction
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from apis.tokens import ApiSigning, mint_access_token
from authz.policy import NoClientGrant, decide_machine_scopes, decide_scopes, granted
from authz.rules import PROTOCOLS, RuleAuthentication, RuleContext, RuleDenied, run_rules
from authz.token_claims import access_token_claims, access_token_lifetime, refresh_token_allowed
from clients.selectors import client_grant_scopes

from . import issuance_counts
from .authentication import token_sign_in_check
from .context import (
    REFRESH_TOKEN,
    TokenRequestContext,
    refresh_token_instance,
    request_context,
    request_scopes,
    signed_in_authentication,
)
from .dpop_binding import dpop_confirmation, dpop_token_request_check


def grantable_scopes(request: Request, scopes: list[str]) -> list[str]:
    """The requested scopes that may be granted: the rest are dropped, never refused.

    A machine client without a client grant for the API, or whose request leaves nothing
    it was granted, gets ``access_denied`` with 403 (as Auth0 answers; oauthlib's default
    for the error is 400) and a description naming the missing grant.
    """
    context = request_context(request)
    try:
        if context.machine:
            decisions = decide_machine_scopes(
                api=context.audience, requested=scopes, client_grant=_client_grant(context)
            )
        else:
            decisions = decide_scopes(user=context.user, api=context.audience, requested=scopes)
    except NoClientGrant as refused:
        raise errors.AccessDeniedError(
            description=f"This application {refused}.", request=request, status_code=HTTPStatus.FORBIDDEN
        ) from None
    context.decisions = tuple(decisions)
    return granted(decisions)


def _client_grant(context: TokenRequestContext) -> frozenset[str] | None:
    """The machine client's grant on the audience, asked once per request."""
    if context.client_grant is None and context.audience is not None:
        found = client_grant_scopes(client=context.client, api=context.audience)
        context.client_grant = frozenset(found) if found is not None else None
    return context.client_grant


def apply_token_policy(request: Request) -> None:
    """oauthlib post-token validator: the policy again, then the rules, for every grant.

    Runs when the person is known (from the code or refresh token), so a role removed since
    sign-in is gone from the refreshed token. A rule's denial is ``access_denied``; a
    second factor now required of a sign-in that had none is ``invalid_grant``.
    """
    dpop_token_request_check(request)
    context = request_context(request)
    requested = tuple(request_scopes(request))
    if not context.machine:
        context.user = request.user
        request.scopes = grantable_scopes(request, list(requested))
    context.rules = enforce_rules(request, requested=requested, protocol=PROTOCOLS[str(request.grant_type)])
    token_sign_in_check(request, context.rules)


def enforce_rules(request: Request, *, requested: tuple[str, ...], protocol: str) -> RuleContext:
    """Run the rules on what the request's context has established; a denial (or a rule
    that fails) is ``access_denied``, which oauthlib redirects to the verified callback at
    /authorize and answers with a JSON error at /oauth/token."""
    context = request_context(request)
    rules = RuleContext(
        user=context.user,
        client=context.client,
        api=context.audience,
        requested_scopes=requested,
        granted_scopes=tuple(request_scopes(request)),
        protocol=protocol,
        authentication=RuleAuthentication.of(_sign_in_methods(context)),
    )
    try:
        run_rules(rules)
    except RuleDenied as error:
        raise errors.AccessDeniedError(description=str(error), request=request) from error
    return rules


def _sign_in_methods(context: TokenRequestContext) -> list[str]:
    """How the person signed in: the code's or the refresh family's sign-in at the token
    endpoint, the session's at /authorize; nothing for a machine client."""
    if context.sign_in is not None:
        return context.sign_in.amr
    session = signed_in_authentication()
    return session.amr if session is not None and not context.machine else []


def expires_in(request: Request) -> int:
    """oauthlib's ``expires_in``: the audience's lifetime, not one number for every token."""
    return access_token_lifetime(request_context(request).audience)


def access_token_generator(request: Request) -> str:
    """Mint the RFC 9068 JWT access token (django-oauth-toolkit's ACCESS_TOKEN_GENERATOR).

    Records on the context the grant the token belongs to (a refresh continues its
    family's) and the claims, for the record that revocation and introspection read, and
    counts the token for the daily stats (``issuance_counts``).
    """
    context = request_context(request)
    if request.grant_type == REFRESH_TOKEN:
        context.grant_id = str(refresh_token_instance(request).token_family)
    else:
        context.grant_id = str(uuid.uuid4())
    context.claims = access_token_claims(
        user=context.user,
        client=context.client,
        api=context.audience,
        scopes=request_scopes(request),
        lifetime=expires_in(request),
        rule_claims=context.rule_access_token_claims,
        grant_id=context.grant_id,
    )
    context.claims.update(dpop_confirmation())  # cnf.jkt when the request sent a DPoP proof
    signing = ApiSigning.of(context.audience) if context.audience is not None else None
    token = mint_access_token(context.claims, signing=signing)
    # Counted once what the token endpoint saves with it is committed: a redemption or a
    # refresh that fails after this point rolls back and counts nothing. (A machine
    # client's token saves nothing: outside a transaction this counts at once.)
    transaction.on_commit(
        partial(
            issuance_counts.count,
            grant_type=str(request.grant_type),
            audience=context.audience_identifier,
            client_id=context.client.client_id,
        )
    )
    return token


def refresh_token_policy(token: dict[str, Any], token_handler: Any, request: Request) -> dict[str, Any]:
    """oauthlib token modifier: drop the refresh token unless ``refresh_token_allowed``."""
    if not refresh_token_allowed(request_scopes(request), request_context(request).audience):
        token.pop("refresh_token", None)
    return token
