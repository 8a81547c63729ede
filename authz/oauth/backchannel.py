"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a person's session on
this server ends, every application that holds a grant for them and registered a
``backchannel_logout_uri`` is sent a signed logout token, server to server.

Delivery runs in Celery after the commit (``tasks.backchannel_logout_deliver``): one
attempt per task run, each recorded in the audit log, retried with backoff on failure.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.audit import audit_record
from accounts.models import User, UserSession
from apis.keys import private_key, signing_key_current
from clients.models import Client

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - a media type, not a secret
LOGOUT_TOKEN_SECONDS = 120
DELIVERY_TIMEOUT_SECONDS = 5
_SID_SALT = "authz.oauth.backchannel.sid"


class DeliveryFailed(Exception):
    """The application did not accept the logout token. ``retry``: worth trying again (it
    could not be reached, or answered 5xx); not when it refused the token or redirected."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


def session_sid(session_key: str) -> str:
    """The ``sid`` of a server session: derived from its key, which it never reveals."""
    return salted_hmac(_SID_SALT, session_key, algorithm="sha256").hexdigest()[:32]


def _code_key(code: str) -> str:
    return "authz.backchannel.sid:" + hashlib.sha256(code.encode()).hexdigest()


def sid_remember(*, code: str, session_key: str | None) -> None:
    """At /authorize, once ``code`` is issued: remember the session it was issued in, for the
    ``sid`` of the ID token the code is exchanged for (the token endpoint has no session)."""
    if session_key:
        lifetime = settings.OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"]
        cache.set(_code_key(code), session_sid(session_key), timeout=lifetime + 60)


def id_token_sid_claims(client: Client, *, code: str | None) -> dict[str, str]:
    """The ``sid`` claim of the ID token ``client`` receives for ``code``, when it registered
    back-channel logout and the code's session is known (for the validator's
    ``get_additional_claims``/``get_oidc_claims``); none otherwise."""
    if not client.backchannel_logout_uri or not code:
        return {}
    sid = cache.get(_code_key(code))
    return {"sid": sid} if sid else {}


def logout_token(client: Client, *, sub: str, sid: str | None) -> str:
    """A logout token for ``client``, signed RS256 with the current key (§2.4); no nonce."""
    key = signing_key_current()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.OIDC_ISSUER,
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "events": {LOGOUT_EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    headers = {"typ": LOGOUT_TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(claims, private_key(key), algorithm="RS256", headers=headers)


def clients_to_notify(user: User) -> list[Client]:
    """Applications with a back-channel URL that hold a live grant for ``user``."""
    live = Q(pk__in=RefreshToken.objects.filter(user=user, revoked__isnull=True).values("application")) | Q(
        pk__in=AccessToken.objects.filter(user=user, expires__gt=timezone.now()).values("application")
    )
    return list(Client.objects.exclude(backchannel_logout_uri="").filter(live).order_by("pk"))


def backchannel_logout_for(user: User, *, session_key: str | None) -> list[Client]:
    """Tell every application holding a grant for ``user`` that their session ended; which.

    Call it wherever a session of ``user`` ends without ``django.contrib.auth.logout``
    (an administrator ending a session, blocking the person). Deliveries are queued after
    the current transaction commits.
    """
    from .tasks import backchannel_logout_deliver

    sid = session_sid(session_key) if session_key else None
    clients = clients_to_notify(user)
    for client in clients:
        # Robust: a queue that cannot be reached (or an eager retry) must not fail the
        # sign-out that has already happened.
        transaction.on_commit(
            lambda pk=client.pk: backchannel_logout_deliver.delay(pk, str(user.sub), sid),  # type: ignore[misc]
            robust=True,
        )
    return clients


def with_backchannel_logout(revoke: Callable[..., int]) -> Callable[..., int]:
    """``revoke`` (an ``accounts.services.AccessRevoker`` such as ``user_access_revoke``),
    preceded by back-channel logout: the applications to tell are found while their
    grants still exist, and told once the revocation commits."""

    def revoke_and_tell(*, user: User) -> int:
        backchannel_logout_for(user, session_key=None)
        return revoke(user=user)

    return revoke_and_tell


def backchannel_logout_send(*, client: Client, sub: str, sid: str | None, attempt: int) -> None:
    """One delivery attempt, audited; raise DeliveryFailed when it was not accepted (§2.8:
    the application answers 200, or 400 when it refuses the token)."""
    token = logout_token(client, sub=sub, sid=sid)
    details: dict[str, Any] = {"uri": client.backchannel_logout_uri, "sub": sub, "attempt": attempt}
    try:
        response = requests.post(
            client.backchannel_logout_uri,
            data={"logout_token": token},
            timeout=DELIVERY_TIMEOUT_SECONDS,
            allow_redirects=False,  # §2.8: the answer is 200 or 4xx; a redirect is a failure
        )
    except requests.RequestException as error:
        details["error"] = type(error).__name__
        audit_record(actor=None, action="backchannel_logout.failed", target=client, after=details)
        raise DeliveryFailed(details["error"], retry=True) from error
    details["status"] = response.status_code
    if response.status_code not in (200, 204):
        audit_record(actor=None, action="backchannel_logout.failed", target=client, after=details)
        raise DeliveryFailed(f"HTTP {response.status_code}", retry=response.status_code >= 500)
    audit_record(actor=None, action="backchannel_logout.delivered", target=client, after=details)


def on_session_ended(sender: Any, instance: UserSession, **kwargs: Any) -> None:
    """``post_delete`` receiver of a tracked browser session: every way a session ends
    deletes its row (``logout()`` at /logout/ and the end-session endpoint, an administrator
    ending it, a password reset, "sign out other browsers"), so each is told.

    A person being blocked or deleted is inactive by then: their applications get one token
    naming the person instead, sent by ``with_backchannel_logout`` with the revocation.
    """
    user = User.objects.filter(pk=instance.user_id, is_active=True).first()
    if user is not None:
        backchannel_logout_for(user, session_key=instance.session_key)
