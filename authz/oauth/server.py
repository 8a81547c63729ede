"""The oauthlib server behind django-oauth-toolkit, narrowed to what we support.

We answer only ``response_type=code`` and the grants ``authorization_code``,
``refresh_token`` and ``client_credentials``; PKCE uses S256 with a well-formed challenge.
Anything else is refused before the user sees a login or consent page.
"""

from __future__ import annotations

import re
from typing import Any

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer

from authz.rules import PROTOCOL_CODE

from .authentication import authorization_sign_in_check
from .context import request_context
from .device import DEVICE_CODE, OpenIDDeviceGrantType
from .dpop_binding import dpop_token_type
from .issuance import apply_token_policy, enforce_rules, expires_in, refresh_token_policy

SUPPORTED_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE)
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters; the grammar allows 43-128
# unreserved characters.
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def validate_code_request(request: Request) -> dict[str, Any]:
    """oauthlib pre-auth validator: runs once client and redirect URI are known good.

    Errors raised here are redirected to the client with ``state`` (and ``iss``).
    """
    if request.response_type is None:
        raise errors.MissingResponseTypeError(request=request)
    if request.response_type != "code":
        # oauthlib routes every unknown response type to the code grant and only checks
        # that "code" is a substring, which would let "code id_token" through.
        raise errors.UnsupportedResponseTypeError(request=request)
    if request.response_mode not in (None, "query"):
        # Discovery advertises the query only; oauthlib would answer in a fragment, and
        # quietly in the query for anything else. The error itself travels in the query.
        request.response_mode = "query"
        raise errors.InvalidRequestError(
            description='response_mode must be "query", the only one this server offers.', request=request
        )
    if request.code_challenge is None:
        if request.code_challenge_method is not None:
            raise errors.InvalidRequestError(
                description="code_challenge_method was sent without code_challenge.", request=request
            )
        return {}
    if request.code_challenge_method != "S256":
        # RFC 7636 §4.4.1: an unsupported transformation is invalid_request. A missing
        # method would mean "plain", which we do not accept either.
        raise errors.InvalidRequestError(description='code_challenge_method must be "S256".', request=request)
    if not CODE_CHALLENGE.fullmatch(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43-128 characters of [A-Za-z0-9-._~].", request=request
        )
    return {}


def check_rules_at_authorization(request: Request) -> dict[str, Any]:
    """oauthlib post-auth validator: the rules decide at /authorize too, once the person,
    the client and the scopes are known, so a denied person never gets a code (as Auth0
    does); the token endpoint runs them again. Runs for the consent screen and its answer.
    Then whether the session signed in strongly enough (the rules may ask for more).
    """
    context = request_context(request)
    requested = tuple(decision.scope for decision in context.decisions)
    rules = enforce_rules(request, requested=requested, protocol=PROTOCOL_CODE)
    authorization_sign_in_check(request, rules)
    return {}


class Server(OpenIDServer):
    def __init__(self, request_validator, *args, **kwargs) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self.device_code_grant = OpenIDDeviceGrantType(request_validator)  # RFC 8628: see .device
        # oauthlib's stubs do not describe its grants' hooks (custom_validators): Any.
        code_grants: tuple[Any, ...] = (self.auth_grant, self.openid_connect_auth)
        token_grants = (*code_grants, self.refresh_grant, self.device_code_grant)
        for grant in code_grants:
            grant.custom_validators.pre_auth.append(validate_code_request)
            grant.custom_validators.post_auth.append(check_rules_at_authorization)
        for grant in token_grants:
            grant.register_token_modifier(refresh_token_policy)
        for grant in (*token_grants, self.credentials_grant):
            grant.custom_validators.post_token.append(apply_token_policy)
            grant.register_token_modifier(dpop_token_type)
        # expires_in is the audience's lifetime, not one number for every token. (Not
        # self.bearer: oauthlib's UserInfoEndpoint replaces that with its own.)
        self.default_token_type.expires_in = expires_in
        self._response_types = {"code": self.auth_grant_choice}
        grant_types: dict[str, Any] = self._grant_types  # type: ignore[has-type]  # not in the stubs
        self._grant_types = {**grant_types, DEVICE_CODE: self.device_code_grant}
        self._grant_types = {name: self._grant_types[name] for name in SUPPORTED_GRANT_TYPES}
