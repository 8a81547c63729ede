"""Pushed authorization requests (RFC 9126): what /oauth/par checks and keeps, and how
/authorize takes a ``request_uri``.

A client pushes its authorization request (authenticated as at the token endpoint) and gets
a ``request_uri`` valid for 60 seconds. The first /authorize visit naming it takes it, once
(an UPDATE … WHERE not yet taken: first one wins across workers), and redirects the browser
to the request itself, marked with ``pushed_request``. Sign-in, max_age, step-up and the
consent screen then work as for any request; each visit must still carry exactly the pushed
parameters (``prompt=login`` aside: signing in drops it), and the consent answer exactly the
pushed values. When the request ends at the client, with a code or an error, the row is
deleted (first one wins again): one push, one answer. A request_uri replayed, expired, of
another client or already answered is ``invalid_request_uri``, shown here, never redirected.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.issuer import issuer_url
from authz.models import PushedAuthorizationRequest
from clients.models import Client
from clients.selectors import client_by_client_id

from .context import signed_in
from .params import authorization_params

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PUSHED_REQUEST_SECONDS = 60
# How long the person has, once the request_uri is taken, to sign in and answer.
FLOW_SECONDS = 10 * 60
# The parameter that marks a taken pushed request in the browser's /authorize URL.
MARKER = "pushed_request"
# Client authentication travels with the push, never into the authorization request.
CLIENT_AUTHENTICATION = frozenset({"client_secret", "client_assertion", "client_assertion_type"})
# The consent form's hidden fields that are the pushed values as they were sent.
_ANSWER_FIELDS = ("client_id", "state", "response_type", "code_challenge", "code_challenge_method", "nonce")
REQUIRES_PAR = (
    "This application requires pushed authorization requests: push the request to /oauth/par first."
)


class PushedRequestError(Exception):
    """An RFC 6749 error about a pushed request (``error``, ``str()`` the description)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.status = error, status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "description": str(self)}


# --- /oauth/par ---------------------------------------------------------------------------


def pushing_client(request: HttpRequest) -> Client:
    """The client a push comes from, authenticated as the token endpoint would: with its
    registered method if it is confidential, by its client_id alone if it is public."""
    core = get_oauthlib_core()
    uri, method, body, headers = core._extract_params(request)  # DOT's own conversion
    oauth_request = Request(uri, method, body, headers)
    validator = core.server.request_validator
    try:
        if validator.client_authentication_required(oauth_request):
            authenticated = validator.authenticate_client(oauth_request)
        else:
            authenticated = validator.authenticate_client_id(oauth_request.client_id, oauth_request)
    except errors.InvalidClientError as refused:
        raise PushedRequestError("invalid_client", refused.description, status=401) from refused
    if not authenticated or not isinstance(oauth_request.client, Client):
        raise PushedRequestError("invalid_client", "Client authentication failed.", status=401)
    return oauth_request.client


def pushed_parameters(client: Client, form: QueryDict) -> QueryDict:
    """The authorization request a push carries, checked as /authorize would check it.

    RFC 9126 §2.3: errors that /authorize could not redirect (a bad redirect_uri) are
    ``invalid_request`` here.
    """
    params = QueryDict(mutable=True)
    for name, values in form.lists():
        if name not in CLIENT_AUTHENTICATION:
            params.setlist(name, values)
    if "request_uri" in params:
        raise PushedRequestError("invalid_request", "A pushed request may not contain request_uri.")
    if "request" in params:
        raise PushedRequestError("request_not_supported", "Request objects are not supported.")
    if params.setdefault("client_id", client.client_id) != client.client_id:
        raise PushedRequestError("invalid_request", "client_id is not the client that authenticated.")
    _validate_as_authorize(params)
    return params


def _validate_as_authorize(params: QueryDict) -> None:
    """oauthlib's checks of /authorize, and ours (response type, PKCE, scopes, audience),
    with nobody signed in yet. ``prompt`` is left to /authorize: ``none`` needs the session."""
    checked = authorization_params(params).copy()
    checked.pop("prompt", None)
    for resource in checked.getlist("resource"):
        if not is_valid_resource_uri(resource):
            raise PushedRequestError(
                "invalid_target", f"The resource {resource[:80]!r} is not an absolute URI."
            )
    server = get_oauthlib_core().server
    try:
        with signed_in(None):
            server.validate_authorization_request(
                f"{issuer_url('oauth2_provider:authorize')}?{checked.urlencode()}"
            )
    except errors.FatalClientError as error:
        # A missing or unregistered redirect_uri: /authorize would not redirect it either.
        raise PushedRequestError("invalid_request", error.description) from error
    except errors.OAuth2Error as error:
        raise PushedRequestError(error.error or "invalid_request", error.description or "") from error


def pushed_request_create(*, client: Client, params: QueryDict) -> PushedAuthorizationRequest:
    """Keep a checked request for 60 seconds under a fresh, unguessable request_uri."""
    return PushedAuthorizationRequest.objects.create(
        request_id=secrets.token_urlsafe(32),
        client=client,
        parameters=[[name, value] for name, values in params.lists() for value in values],
        expires_at=timezone.now() + timedelta(seconds=PUSHED_REQUEST_SECONDS),
    )


def pushed_requests_purge() -> int:
    """Forget pushed requests nobody can use any more (the hourly clean-up)."""
    deleted, _ = PushedAuthorizationRequest.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --- /authorize ---------------------------------------------------------------------------


def authorization_request_check(request: HttpRequest) -> str | None:
    """What /authorize does about PAR, before anything else: the URL of the pushed request
    when this visit takes a request_uri; None to go on; ``PushedRequestError`` to stop."""
    if "request_uri" in request.GET:
        return _take(request.GET)
    if MARKER in request.GET:
        row = _taken(request.GET[MARKER])
        if _normalized(request.GET, without=MARKER) != _normalized(_as_query(row)):
            raise PushedRequestError("invalid_request", "The request is not the one the application pushed.")
        if request.method == "POST":
            _check_answer(row, request.POST)
        return None
    named = {request.GET.get("client_id", "")}
    if request.method == "POST":
        named.add(request.POST.get("client_id", ""))
    if any(client is not None and client.require_par for client in map(client_by_client_id, named - {""})):
        raise PushedRequestError("invalid_request", REQUIRES_PAR)
    return None


def pushed_request_answered(request: HttpRequest) -> bool:
    """The request is ending at the client: use up its pushed request, if it has one.
    False when another answer has already used it (that answer stands, this one is void)."""
    if MARKER not in request.GET:
        return True
    deleted, _ = PushedAuthorizationRequest.objects.filter(
        request_id=request.GET[MARKER], expanded=True
    ).delete()
    return deleted > 0


def _take(query: QueryDict) -> str:
    request_uri, client_id = query.get("request_uri", ""), query.get("client_id", "")
    if not request_uri.startswith(REQUEST_URI_PREFIX) or not client_id:
        raise PushedRequestError(
            "invalid_request_uri", "request_uri must be one /oauth/par issued, sent with the client_id."
        )
    request_id, now = request_uri.removeprefix(REQUEST_URI_PREFIX), timezone.now()
    client = client_by_client_id(client_id)
    # One UPDATE on the row's own columns: of two visits racing for the same request_uri,
    # the second finds it taken when the first commits, and changes nothing.
    taken = client is not None and PushedAuthorizationRequest.objects.filter(
        request_id=request_id, client=client, expanded=False, expires_at__gt=now
    ).update(expanded=True, expires_at=now + timedelta(seconds=FLOW_SECONDS))
    if not taken:
        raise PushedRequestError(
            "invalid_request_uri", "The request_uri is unknown, expired, already used or not this client's."
        )
    row = PushedAuthorizationRequest.objects.get(pk=request_id)
    pushed = [(name, value) for name, value in row.parameters]
    return f"{reverse('oauth2_provider:authorize')}?{urlencode([*pushed, (MARKER, request_id)])}"


def _taken(request_id: str) -> PushedAuthorizationRequest:
    row = (
        PushedAuthorizationRequest.objects.filter(
            request_id=request_id, expanded=True, expires_at__gt=timezone.now()
        )
        .select_related("client")
        .first()
    )
    if row is None:
        raise PushedRequestError(
            "invalid_request_uri", "This pushed request has expired or was already answered."
        )
    return row


def _as_query(row: PushedAuthorizationRequest) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in row.parameters:
        query.appendlist(name, value)
    return query


def _normalized(query: QueryDict, without: str = "") -> list[tuple[str, list[str]]]:
    """A request's parameters, comparable whether or not signing in dropped ``prompt=login``."""
    pairs = []
    for name, values in sorted(query.lists()):
        if name == "prompt":
            values = [" ".join(word for word in value.split() if word != "login") for value in values]
            values = [value for value in values if value]
        if name != without and values:
            pairs.append((name, values))
    return pairs


def _check_answer(row: PushedAuthorizationRequest, answer: QueryDict) -> None:
    """The consent form's hidden fields must be the pushed values: its scopes among the
    pushed ones (they may have been narrowed), the rest as pushed."""
    pushed = authorization_params(_as_query(row))
    changed = [name for name in _ANSWER_FIELDS if (answer.get(name) or "") != (pushed.get(name) or "")]
    if pushed.get("redirect_uri") and answer.get("redirect_uri") != pushed["redirect_uri"]:
        changed.append("redirect_uri")
    if not set(answer.get("scope", "").split()) <= set(pushed.get("scope", "").split()):
        changed.append("scope")
    if answer.get("resource", "").split() != pushed.getlist("resource"):
        changed.append("resource")
    if _claims(answer.get("claims")) != _claims(pushed.get("claims")):
        changed.append("claims")
    if changed:
        raise PushedRequestError(
            "invalid_request", f"The answer changed what was pushed: {', '.join(changed)}."
        )


def _claims(value: str | None) -> object:
    """A claims request as data: the form holds oauthlib's parsed object, or the string it
    left unparsed (a plain OAuth request), as JSON."""
    try:
        claims = json.loads(value or "null")
        return json.loads(claims) if isinstance(claims, str) else claims
    except ValueError:
        return ValueError
