"""RFC 9449 DPoP at the token endpoint: the proof checked, and the tokens bound to its key.

The view checks the ``DPoP`` header before oauthlib sees the request (``dpop_token_endpoint``)
and keeps the verified proof for the hooks of that one request: the access token gets
``cnf.jkt`` (``dpop_confirmation``) and ``token_type`` ``DPoP`` (``dpop_token_type``); a
public client's refresh-token family is bound to the key (``dpop_family_bind``) and every
refresh must prove the same key; an application that requires DPoP gets no token without
a proof (both ``dpop_token_request_check``).

Errors: an invalid proof is ``invalid_dpop_proof`` and a missing or stale server nonce
``use_dpop_nonce`` with a ``DPoP-Nonce`` header (§5, §8). A proof missing where the
application requires one is ``invalid_dpop_proof`` too: §5 has the client "MUST provide a
valid DPoP proof", and an absent proof is not a valid one (panva's oidc-provider answers
the same for ``dpop_bound_access_tokens`` clients). A refresh with another key, or none,
for a bound family is ``invalid_grant``: the grant is what does not match (§5).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.issuer import issuer_url
from apis.dpop import InvalidProof, NonceRequired, Proof, nonce_new, nonce_required, verify_proof
from authz.models import GrantFamily
from clients.models import Client

from .context import REFRESH_TOKEN, refresh_token_instance, request_client

# The proof of the token request being answered (set around that one request only).
_proof: ContextVar[Proof | None] = ContextVar("dpop_proof", default=None)


def _error(error: str, description: str, nonce: str | None = None) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=400)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if nonce is not None:
        response["DPoP-Nonce"] = nonce
    return response


def dpop_token_endpoint(request: HttpRequest, respond: Callable[[], HttpResponse]) -> HttpResponse:
    """The token endpoint's answer: ``respond()`` with the request's proof verified and kept
    for the hooks, or the DPoP error with nothing issued."""
    header = request.headers.get("DPoP") if request.method == "POST" else None
    if header is None:
        return respond()
    if "," in header:  # several DPoP headers, joined by the server
        return _error("invalid_dpop_proof", "Send exactly one DPoP proof.")
    try:
        proof = verify_proof(header, method="POST", url=issuer_url("oauth2_provider:token"))
    except NonceRequired as refused:
        return _error("use_dpop_nonce", str(refused), refused.nonce)
    except InvalidProof as refused:
        return _error("invalid_dpop_proof", str(refused))
    reset = _proof.set(proof)
    try:
        response = respond()
    finally:
        _proof.reset(reset)
    if nonce_required():
        # §8.2: the nonce for the client's next proof.
        response["DPoP-Nonce"] = nonce_new()
    return response


def token_request_proof() -> Proof | None:
    """The verified proof of the token request being answered, if it sent one."""
    return _proof.get()


def dpop_token_request_check(request: Request) -> None:
    """oauthlib post-token validator: an application that requires DPoP gets no token
    without a proof, and a bound refresh token needs a proof of its key."""
    if request.grant_type == REFRESH_TOKEN:
        _refresh_check(refresh_token_instance(request).token_family, request)
    if request_client(request).require_dpop and _proof.get() is None:
        raise errors.CustomOAuth2Error(
            error="invalid_dpop_proof",
            description="This application must send a DPoP proof with its token requests.",
            request=request,
        )


def dpop_confirmation() -> dict[str, Any]:
    """The access token's ``cnf`` claim (RFC 9449 §6.1) when the request sent a proof."""
    proof = _proof.get()
    return {"cnf": {"jkt": proof.jkt}} if proof is not None else {}


def dpop_token_type(token: dict[str, Any], *_args: Any) -> dict[str, Any]:
    """oauthlib token modifier: a bound access token's type is ``DPoP`` (§5). (The
    client_credentials grant passes the token alone, the others the handler and request.)"""
    if _proof.get() is not None:
        token["token_type"] = "DPoP"  # noqa: S105 - a token type, not a secret
    return token


def dpop_family_bind(*, grant_id: Any, client: Client) -> None:
    """A public client's new refresh-token family is bound to the proof's key (§5); a
    confidential client's refresh tokens are bound to its credentials already."""
    proof = _proof.get()
    if proof is not None and client.client_type == Client.CLIENT_PUBLIC:
        GrantFamily.objects.filter(grant_id=grant_id).update(dpop_jkt=proof.jkt)


def _refresh_check(token_family: Any, request: Request) -> None:
    """A bound family's refresh token is only redeemed with a proof of the same key."""
    if token_family is None:
        return
    bound = GrantFamily.objects.filter(grant_id=token_family).values_list("dpop_jkt", flat=True).first()
    if not bound:
        return
    proof = _proof.get()
    if proof is None or proof.jkt != bound:
        raise errors.InvalidGrantError(
            description="This refresh token is bound to a DPoP key: prove that key.", request=request
        )
