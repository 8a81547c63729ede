"""The client_credentials grant's ordinary success, without oauthlib's generic machinery.

Batch jobs ask for a token far more often than people sign in, and oauthlib's request
machinery costs more than everything else the grant does. This path answers the one case
that is both common and simple: a confidential machine client authenticating with its
registered method and the right secret, one registered audience it holds a client grant
for, plain parameters, and rules that let it through. It runs the same steps as the
generic path (the same client lookup and secret check, ``decide_machine_scopes``, the same
rules and ``access_token_claims``, the same signing) and answers with the same JSON.

Whatever else comes in (a wrong or missing credential, an unexpected or repeated parameter,
an unknown audience, a scope the client was not granted, a rule's denial, a CORS request,
a DPoP proof or a client that requires one) makes it step aside: ``fast_client_credentials``
returns None and the caller takes the generic path, which decides the error and counts the
failure. So this path can only ever issue what the generic path issues;
tests/authz/test_client_credentials_fast.py feeds both the same requests and compares the answers.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse

from accounts.request_log import request_log_annotate
from apis.selectors import api_by_identifier
from apis.tokens import ApiSigning, mint_access_token
from authz.policy import NoClientGrant, decide_machine_scopes, granted
from authz.rules import PROTOCOLS, RuleContext, RuleDenied, run_rules
from authz.token_claims import access_token_claims, access_token_lifetime
from clients.hashers import client_secret_matches
from clients.models import Client
from clients.selectors import client_by_client_id, client_grant_scopes

from . import issuance_counts
from .context import CLIENT_CREDENTIALS

# What an ordinary request sends; anything else goes the generic way.
_PARAMETERS = frozenset({"grant_type", "scope", "resource", "client_id", "client_secret"})


def _credentials(request: HttpRequest) -> tuple[str, str, str] | None:
    """(client id, secret, method) as the generic path would read them, when unambiguous."""
    authorization = request.headers.get("Authorization")
    if authorization is None:
        client_id, secret = request.POST.get("client_id"), request.POST.get("client_secret")
        if not client_id or not secret:
            return None
        return client_id, secret, Client.AuthMethod.POST
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic" or "client_id" in request.POST or "client_secret" in request.POST:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret), Client.AuthMethod.BASIC


def _authenticated_client(request: HttpRequest) -> Client | None:
    credentials = _credentials(request)
    if credentials is None:
        return None
    client_id, secret, method = credentials
    client = client_by_client_id(client_id)
    if (
        client is None
        or client.client_type != Client.CLIENT_CONFIDENTIAL
        or client.token_endpoint_auth_method != method
        or not client.allows_grant_type(Client.GRANT_CLIENT_CREDENTIALS)
        or not client_secret_matches(secret, client.client_secret)
    ):
        return None
    return client


def fast_client_credentials(request: HttpRequest) -> HttpResponse | None:
    """The token response for an ordinary client_credentials request, or None: take the
    generic path. ``request.POST`` is the form the token endpoint reads (JSON bodies and
    ``audience`` already turned into it)."""
    params = request.POST
    if (
        request.GET
        or "Origin" in request.headers
        or "DPoP" in request.headers  # bound tokens: the generic path (dpop_binding)
        or not set(params) <= _PARAMETERS
        or any(len(values) != 1 for _name, values in params.lists())
        or params.get("grant_type") != CLIENT_CREDENTIALS
    ):
        return None
    client = _authenticated_client(request)
    if client is None or client.require_dpop:
        return None
    request_log_annotate(client_id=client.client_id)
    api = api_by_identifier(params.get("resource", ""))
    if api is None:
        return None
    scope = params.get("scope")
    requested = scope.strip().split(" ") if scope is not None else []
    try:
        decisions = decide_machine_scopes(
            api=api, requested=requested, client_grant=client_grant_scopes(client=client, api=api)
        )
    except NoClientGrant:
        return None
    scopes = granted(decisions)
    rules = RuleContext(
        user=None,
        client=client,
        api=api,
        requested_scopes=tuple(requested),
        granted_scopes=tuple(scopes),
        protocol=PROTOCOLS[CLIENT_CREDENTIALS],
    )
    try:
        run_rules(rules)
    except RuleDenied:
        return None
    lifetime = access_token_lifetime(api)
    claims = access_token_claims(
        user=None,
        client=client,
        api=api,
        scopes=scopes,
        lifetime=lifetime,
        rule_claims=rules.access_token_claims,
        grant_id=uuid.uuid4(),
    )
    token = mint_access_token(claims, signing=ApiSigning.of(api))
    # In memory, no query (see issuance_counts); the generic path counts in its generator.
    issuance_counts.count(grant_type=CLIENT_CREDENTIALS, audience=api.identifier, client_id=client.client_id)
    body = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(scopes)}
    response = HttpResponse(json.dumps(body), content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
