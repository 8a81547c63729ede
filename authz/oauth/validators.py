"""Our django-oauth-toolkit validator: the place where protocol meets policy."""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, cast

import jwt
from django.utils import timezone
from oauth2_provider import oauth2_validators
from oauth2_provider.models import get_grant_model, get_refresh_token_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.checksums import token_checksum
from accounts.claims import CLAIM_SCOPES, claims_for_scopes
from accounts.models import User
from accounts.request_log import request_log_annotate
from authz.models import AccessTokenRecord
from authz.services import grant_revoke
from clients.hashers import client_secret_matches
from clients.models import Client
from clients.selectors import client_by_client_id

from .access_tokens import verified_claims
from .authentication import sign_in_older_than, signed_in_at
from .backchannel import id_token_sid_claims
from .client_assertion import AssertionRefused, assertion_sent
from .client_auth import assertion_client, request_params, uses_basic
from .consent import consent_given, consent_skippable
from .context import (
    CLIENT_CREDENTIALS,
    refresh_token_instance,
    request_client,
    request_context,
    request_scopes,
    signed_in_authentication,
)
from .dpop_binding import dpop_family_bind
from .families import grant_family_begin, grant_family_started
from .issuance import grantable_scopes
from .redemption import code_grant, code_redeemed, code_redeemed_grant
from .sign_ins import claims_and_sign_in, claims_with_sign_in, grant_sign_in, grant_sign_in_keep

Grant = get_grant_model()
# The ID token this request has just saved, while its access token is being saved.
_issued_id_token: ContextVar[Any] = ContextVar("issued_id_token", default=None)
RefreshToken = get_refresh_token_model()


class OAuth2Validator(oauth2_validators.OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- Authorization requests -----------------------------------------------------------

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        """Public clients must use PKCE; confidential clients may (and then S256 only)."""
        client = request.client or self._load_application(client_id, request)
        return client is None or client.client_type == Client.CLIENT_PUBLIC

    def validate_scopes(
        self, client_id: str, scopes: list[str], client, request: Request, *args, **kwargs
    ) -> bool:
        """Narrow the requested scopes to what may be granted; never refuse for extras.

        An unknown audience is ``invalid_target``; a machine client must name one.
        """
        context = request_context(request)
        if context.machine and context.audience is None:
            raise errors.InvalidRequestError(
                description="client_credentials needs an audience: the identifier of the API to call.",
                request=request,
            )
        request.scopes = grantable_scopes(request, scopes)
        return True

    def validate_silent_login(self, request: Request) -> bool:
        """prompt=none: is someone signed in, recently enough for ``max_age``?
        (``login_required`` otherwise: prompt=none may not show the sign-in page.)"""
        user = request_context(request).user
        return user is not None and not sign_in_older_than(
            signed_in_at(signed_in_authentication(), user), request.max_age
        )

    def validate_silent_authorization(self, request: Request) -> bool:
        """prompt=none may only succeed when no consent screen would be shown: a first-party
        application, or a consent already given for these scopes."""
        context = request_context(request)
        if consent_skippable(context.client, context.audience):
            return True
        return context.user is not None and consent_given(
            user=context.user,
            client=context.client,
            audience=context.audience_identifier,
            scopes=request_scopes(request),
        )

    # --- Clients --------------------------------------------------------------------------

    def _load_application(self, client_id: str, request: Request) -> Client | None:
        """The client ``client_id`` names, from the process's copy (``client_by_client_id``)."""
        if not (isinstance(request.client, Client) and request.client.client_id == client_id):
            request.client = client_by_client_id(client_id)
        return request.client

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        return client_secret_matches(provided_secret, stored_secret)

    def _create_authorization_code(self, request: Request, code, expires=None):
        """The code's row also keeps how the session signed in (see ``sign_ins``), replacing
        anything the client sent under our key of ``claims``."""
        claims = request.claims
        request.claims = claims_with_sign_in(claims, request_context(request).sign_in)
        try:
            return super()._create_authorization_code(request, code, expires)
        finally:
            request.claims = claims

    # --- Token requests -------------------------------------------------------------------

    def save_bearer_token(self, token, request: Request, *args, **kwargs) -> None:
        """Store what a later request needs: a machine client's token needs nothing.

        An access token is a self-contained JWT: the APIs, introspection and revocation read
        it and the revocation list, never a row. Tokens of people keep django-oauth-toolkit's
        rows, which their refresh tokens and the dashboard's account pages use.
        """
        if request.grant_type == CLIENT_CREDENTIALS:
            return
        person = getattr(request.user, "sub", None)
        request_log_annotate(user_id=str(person) if person is not None else None)
        super().save_bearer_token(token, request, *args, **kwargs)

    def client_authentication_required(self, request: Request, *args, **kwargs) -> bool:
        """A client that sends an assertion is authenticated by it, whatever else it is."""
        if assertion_sent(request_params(request)):
            return True
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request: Request, *args, **kwargs) -> bool:
        """Authenticate with the method the client registered, and only that one; a failed
        client assertion says why (``invalid_client`` with its error_description)."""
        params = request_params(request)
        if assertion_sent(params):
            try:
                request.client = assertion_client(request, params)
            except AssertionRefused as refused:
                raise errors.InvalidClientError(description=str(refused), request=request) from refused
            request.client_id = request.client.client_id
            request_log_annotate(client_id=request.client_id)
            return True
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        basic = uses_basic(request.headers.get("Authorization", ""))
        used = Client.AuthMethod.BASIC if basic else Client.AuthMethod.POST
        if request_client(request).token_endpoint_auth_method != used:
            return False
        request_log_annotate(client_id=request_client(request).client_id)
        return True

    def authenticate_client_id(self, client_id: str, request: Request, *args, **kwargs) -> bool:
        """DOT's (a public client names itself); the request's log line then names it, as
        ``authenticate_client`` does for a client that authenticated and
        ``validate_client_id`` for the client an authorization request names."""
        if not super().authenticate_client_id(client_id, request, *args, **kwargs):
            return False
        request_log_annotate(client_id=client_id)
        return True

    def validate_client_id(self, client_id: str, request: Request, *args, **kwargs) -> bool:
        if not super().validate_client_id(client_id, request, *args, **kwargs):
            return False
        request_log_annotate(client_id=client_id)
        return True

    def rotate_refresh_token(self, request: Request) -> bool:
        return request_client(request).rotate_refresh_token

    def validate_refresh_token(self, refresh_token: str, client, request: Request, *args, **kwargs) -> bool:
        """DOT's checks, then the client's idle and absolute refresh-token lifetimes.

        When DOT detects the reuse of a rotated-out token it revokes the family in the
        database; the family's access tokens are ended at the APIs too.
        """
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            reused = (
                RefreshToken.objects.filter(token_checksum=token_checksum(refresh_token), application=client)
                .exclude(revoked=None)
                .exclude(token_family=None)
                .values_list("token_family", flat=True)
                .first()
            )
            if reused is not None:
                grant_revoke(grant_id=reused, actor=None, action="security.refresh_reuse", target=client)
            return False
        token = refresh_token_instance(request)
        now = timezone.now()
        if now - token.created > timedelta(seconds=client.refresh_token_idle_lifetime):
            return False
        # From the family's stored start (the sign-in), which outlives its rotated-out rows.
        started = grant_family_started(token.token_family) or token.created
        if now - started > timedelta(seconds=client.refresh_token_absolute_lifetime):
            return False
        request_context(request).sign_in = grant_sign_in(token.token_family)
        return True

    # oauthlib asks about the code in five hooks: each answers from the row the token
    # endpoint locked (``code_grant``), read once.

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client, *args, **kwargs
    ) -> bool:
        grant = code_grant(code, client)
        return grant is not None and grant.redirect_uri_allowed(redirect_uri)

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request
    ) -> list[str]:
        grant = code_grant(code, request.client)
        return grant.scope.split() if grant is not None and grant.scope else []

    # oauthlib's stubs type these three as str; None means the request had none.

    def get_authorization_code_nonce(  # type: ignore[override]
        self, client_id: str, code: str, redirect_uri: str, request
    ) -> str | None:
        grant = code_grant(code, request.client)
        return grant.nonce or None if grant is not None else None

    def get_code_challenge(self, code: str, request: Request) -> str | None:  # type: ignore[override]
        grant = code_grant(code, request.client)
        return grant.code_challenge or None if grant is not None else None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:  # type: ignore[override]
        grant = code_grant(code, request.client)
        return grant.code_challenge_method or None if grant is not None else None

    def validate_code(self, client_id: str, code: str, client, request: Request, *args, **kwargs) -> bool:
        grant = code_grant(code, client)
        if grant is None:
            # A code that was already redeemed: someone holds a copy of it. Everything its
            # first redemption issued is revoked (RFC 9700 §4.5.3.1).
            replayed = code_redeemed_grant(code)
            if replayed:
                grant_revoke(grant_id=replayed, actor=None, action="security.code_replay", target=client)
            return False
        if grant.is_expired():
            return False
        # PKCE both ways (RFC 9700 §4.8.2): a verifier for a code issued without a challenge
        # is a downgrade attempt, a challenge without its verifier a stolen code.
        if bool(grant.code_challenge) != bool(getattr(request, "code_verifier", None)):
            return False
        request.scopes = grant.scope.split()
        request.user = grant.user
        # The audience chosen at /authorize, whatever the token request says.
        request.resource = grant.resource or []  # type: ignore[attr-defined]  # DOT reads it
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            claims, request_context(request).sign_in = claims_and_sign_in(json.loads(grant.claims))
            if claims:
                request.claims = claims
        return True

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args, **kwargs
    ) -> None:
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        code_redeemed(code, str(request_context(request).grant_id))

    def _save_id_token(self, jti, request: Request, expires, *args, **kwargs):
        id_token = super()._save_id_token(jti, request, expires, *args, **kwargs)
        request_context(request).id_token = id_token
        return id_token

    def _load_id_token(self, token: str):
        """The ID token row of ``token``: the one this request has just saved, without
        verifying the signature it has just made and reading the row back; else DOT's."""
        issued = _issued_id_token.get()
        if issued is not None:
            try:
                jti = jwt.decode(token, options={"verify_signature": False}).get("jti")
            except jwt.InvalidTokenError:
                jti = None
            if jti is not None and str(jti) == str(issued.jti):
                return issued
        return super()._load_id_token(token)

    def _create_access_token(
        self, expires, request: Request, token: dict[str, Any], source_refresh_token=None
    ):
        context = request_context(request)
        reset = _issued_id_token.set(context.id_token)
        try:
            access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        finally:
            _issued_id_token.reset(reset)
        AccessTokenRecord.objects.create(
            access_token=access_token,
            jti=context.claims["jti"],
            grant_id=str(context.grant_id),
            audience=context.audience_identifier,
        )
        return access_token

    def _create_refresh_token(
        self, request: Request, refresh_token_code: str, access_token, previous_refresh_token
    ):
        """A new refresh token continues its grant: the family is the grant's id. The
        grant's first one records when the family began (see ``families``)."""
        if previous_refresh_token:
            family = previous_refresh_token.token_family
        else:
            context = request_context(request)
            family = context.grant_id
            grant_family_begin(grant_id=family, client=request_client(request), user=cast(User, request.user))
            dpop_family_bind(grant_id=family, client=request_client(request))  # RFC 9449 §5
            if context.sign_in is not None:
                grant_sign_in_keep(grant_id=family, sign_in=context.sign_in)
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=family,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Request, *args, **kwargs
    ) -> None:
        """RFC 7009: revoking either token ends its whole grant, at the APIs too."""
        grant_id = self._grant_of(token, request.client)
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        if grant_id is not None:
            grant_revoke(grant_id=grant_id, actor=None, action="token.revoke", target=request.client)

    @staticmethod
    def _grant_of(token: str, client) -> Any:
        if client is None or client.pk is None:
            return None
        checksum = token_checksum(token)
        family = (
            RefreshToken.objects.filter(token_checksum=checksum, application=client)
            .values_list("token_family", flat=True)
            .first()
        )
        if family:
            return family
        # An access token: its own verified claims name its client and grant.
        claims = verified_claims(token)
        return claims.get("gid") if claims is not None and claims["client_id"] == client.client_id else None

    # --- Claims ---------------------------------------------------------------------------

    def get_oidc_claims(self, token, token_handler, request: Request) -> dict[str, Any]:
        # One source for the ID token and /userinfo, filtered by the granted scopes; the
        # ID token also carries what the rules added at the token endpoint.
        claims = claims_for_scopes(cast(User, request.user), request_scopes(request))
        if request.grant_type is not None:  # issuing an ID token, not answering /userinfo
            claims.update(request_context(request).rule_id_token_claims)
            claims.update(id_token_sid_claims(request_client(request), code=request.code))
        return claims

    def get_id_token_dictionary(self, token, token_handler, request: Request):
        """DOT's, with how the grant's person signed in: RFC 8176 ``amr``, ``acr`` and the
        sign-in's ``auth_time`` (not the person's last sign-in anywhere, DOT's default)."""
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        sign_in = request_context(request).sign_in
        if sign_in is not None:
            claims.update(sign_in.id_token_claims())
        return claims, expiration_time

    def get_discovery_claims(self, request) -> list[str]:
        return list(CLAIM_SCOPES)
