"""/userinfo (OIDC Core §5.3): the claims an access token meant for it may read.

The token is verified as the APIs verify theirs (``apis.tokens.verify_access_token``), with
the userinfo URL as the audience: a token without an API, and one a client got for an API
together with ``openid`` (whose ``aud`` names both), are answered alike, with the claims
their scopes release. Refusals are RFC 6750's: 401 ``invalid_token``, 403
``insufficient_scope``, 400 ``invalid_request``, each with a ``Bearer`` challenge. A
DPoP-bound token (RFC 9449) comes under the ``DPoP`` scheme with its proof; its refusals
carry a ``DPoP`` challenge (and a ``DPoP-Nonce`` when one is asked for).

Not django-oauth-toolkit's view: that one looks the token up in its own rows and binds it
to an RFC 8707 resource, so a token for an API (and /userinfo) was refused there.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.claims import claims_for_scopes
from accounts.models import User
from accounts.request_log import request_log_annotate
from apis.authentication import REALM
from apis.dpop import DpopRefused, resource_request_check
from apis.models import OPENID
from apis.tokens import InvalidToken, verify_access_token
from authz.token_claims import userinfo_url
from clients.selectors import origin_allowed

from .params import body_too_large

FORM = "application/x-www-form-urlencoded"


class BearerError(Exception):
    """A refusal as RFC 6750 §3 words it; the description is safe to show the caller."""

    def __init__(self, status: HTTPStatus, error: str, description: str, *, scope: str = "") -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.scope = status, error, description, scope

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error": self.error, "error_description": self.description}, status=self.status
        )
        response["WWW-Authenticate"] = _challenge(self.error, self.description, self.scope)
        return response


def _challenge(error: str = "", description: str = "", scope: str = "") -> str:
    """The ``WWW-Authenticate`` value: bare when no token was sent (RFC 6750 §3.1)."""
    params = {"realm": REALM, "error": error, "error_description": description, "scope": scope}
    return "Bearer " + ", ".join(f'{name}="{_quoted(value)}"' for name, value in params.items() if value)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _invalid(description: str) -> BearerError:
    return BearerError(HTTPStatus.UNAUTHORIZED, "invalid_token", description)


def _bearer_token(request: HttpRequest) -> tuple[str, str] | None:
    """The scheme and the token from the Authorization header (``Bearer`` or ``DPoP``) or,
    for a form POST, the body (RFC 6750 §2.1-2.2, a bearer token).

    Never from the query string, where it would end up in logs and histories.
    """
    header = request.headers.get("Authorization", "").split()
    scheme = header[0].lower() if header else ""
    in_header = header[1] if len(header) == 2 and scheme in ("bearer", "dpop") else None
    if scheme in ("bearer", "dpop") and in_header is None:
        raise _invalid(f"The Authorization header must be: {scheme.capitalize()} <token>.")
    in_body = request.POST.get("access_token") if request.content_type == FORM else None
    if in_header is not None and in_body is not None:
        raise BearerError(HTTPStatus.BAD_REQUEST, "invalid_request", "Send the access token only once.")
    if in_header is not None:
        return scheme, in_header
    return ("bearer", in_body) if in_body is not None else None


def _person(claims: dict[str, Any]) -> User:
    """The active person the token speaks for; a machine's token speaks for nobody."""
    try:
        sub = uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise _invalid("The access token does not speak for a person.") from None
    person = User.objects.filter(sub=sub, is_active=True).first()
    if person is None:
        raise _invalid("The person this access token speaks for is not active.")
    return person


def userinfo_claims(token: str, *, request: HttpRequest, scheme: str = "bearer") -> dict[str, Any]:
    """The claims ``token`` may read at /userinfo, or a BearerError (DpopRefused for its
    DPoP binding) saying why none."""
    try:
        claims = verify_access_token(token, audience=userinfo_url(), server_endpoint=True)
    except InvalidToken as error:
        raise _invalid(str(error)) from error
    resource_request_check(
        claims,
        scheme=scheme,
        proof=request.headers.get("DPoP"),
        method=request.method or "",
        path=request.path,
        token=token,
    )
    scopes = str(claims.get("scope", "")).split()
    if OPENID not in scopes:
        raise BearerError(
            HTTPStatus.FORBIDDEN,
            "insufficient_scope",
            "The access token was not granted openid.",
            scope=OPENID,
        )
    person = _person(claims)
    request_log_annotate(client_id=str(claims["client_id"]), user_id=str(person.sub))
    return claims_for_scopes(person, scopes)


def _dpop_refusal(refused: DpopRefused) -> JsonResponse:
    """RFC 9449 §7.1: 401 with a DPoP challenge, and the nonce to use when one is asked for."""
    response = JsonResponse(
        {"error": refused.error, "error_description": refused.description}, status=HTTPStatus.UNAUTHORIZED
    )
    response["WWW-Authenticate"] = refused.challenge(REALM)
    if refused.nonce:
        response["DPoP-Nonce"] = refused.nonce
    return response


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Browsers may read the answer from the web origins an application registered."""
    origin = request.headers.get("Origin", "")
    if origin and origin_allowed(origin):
        response["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            response["Access-Control-Allow-Methods"] = "GET, POST"
            response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"
            response["Access-Control-Max-Age"] = "600"
        else:
            response["Access-Control-Expose-Headers"] = "WWW-Authenticate, DPoP-Nonce"
    patch_vary_headers(response, ["Origin"])
    return response


@csrf_exempt  # a bearer token, never a session cookie, authenticates the request
@require_http_methods(["GET", "POST", "OPTIONS"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """OIDC UserInfo by GET or POST; OPTIONS is the CORS preflight."""
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(status=HTTPStatus.NO_CONTENT))
    response: HttpResponse
    try:
        too_large = body_too_large(request)  # before the body is read for access_token
        if too_large:
            raise BearerError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "invalid_request", too_large)
        presented = _bearer_token(request)
        if presented is None:
            response = JsonResponse({}, status=HTTPStatus.UNAUTHORIZED)
            response["WWW-Authenticate"] = _challenge()
        else:
            scheme, token = presented
            response = JsonResponse(userinfo_claims(token, request=request, scheme=scheme))
    except BearerError as error:
        response = error.response()
    except DpopRefused as refused:
        response = _dpop_refusal(refused)
    # OIDC Core §5.3.2: personal data; RFC 6750 §4 likewise for refusals.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return _cors(request, response)
