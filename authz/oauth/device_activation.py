"""/activate: where a person types the code their device shows, signs in and answers
(RFC 8628 §3.3). The reads and writes behind its views.

Typing codes is rate-limited per address and per browser session, counted before the code
is looked up, so that guessing is throttled whatever the answers. A wrong code and an
expired or used one get the same answer: nothing tells which codes exist. The code found
travels to the consent step signed (not as the code itself), so that step cannot be used
to try codes either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AbstractDeviceGrant

from accounts.mfa.context import ACR_MFA, Authentication, acr_met, acr_of
from accounts.mfa.selectors import has_second_factor
from accounts.models import User
from accounts.throttle import Limit, client_address
from apis.models import Api
from apis.scopes import ApiScopes
from apis.selectors import api_by_identifier
from authz.mfa_requirement import mfa_reasons
from authz.models import DeviceAuthorization
from authz.policy import decide_scopes
from clients.models import Client
from clients.selectors import client_by_client_id

from .authentication import StepUpRequired, signed_in_at
from .consent import consent_answered
from .device import DEVICE_CODE_SECONDS, DeviceGrant, device_flow_allowed, user_code_normalize

ENTRY_PER_ADDRESS = Limit("device-entry-address", 30, 600)
ENTRY_PER_SESSION = Limit("device-entry-session", 10, 600)
_SALT = "authz.oauth.device_activation"


def device_entry_wait(request: HttpRequest) -> int | None:
    """Count one code typed; seconds to wait when this address or session typed too many."""
    if not request.session.session_key:
        request.session.save()  # a session to count by, before anyone signs in
    waits = [
        ENTRY_PER_ADDRESS.take(client_address(request)),
        ENTRY_PER_SESSION.take(str(request.session.session_key)),
    ]
    return max((wait for wait in waits if wait is not None), default=None)


def device_grant_by_user_code(typed: str) -> AbstractDeviceGrant | None:
    """The pending, unexpired request whose user code this is (however it was typed)."""
    code = user_code_normalize(typed)
    if code is None:
        return None
    return DeviceGrant.objects.filter(
        user_code=code, status=DeviceGrant.AUTHORIZATION_PENDING, expires__gt=timezone.now()
    ).first()


def device_grant_ticket(grant: AbstractDeviceGrant) -> str:
    """What the consent step's URL carries: the request's id, signed, valid as long as a code."""
    return signing.dumps(grant.pk, salt=_SALT)


def device_grant_by_ticket(ticket: str) -> AbstractDeviceGrant | None:
    try:
        pk = signing.loads(ticket, salt=_SALT, max_age=DEVICE_CODE_SECONDS)
    except signing.BadSignature:
        return None
    return DeviceGrant.objects.filter(
        pk=pk, status=DeviceGrant.AUTHORIZATION_PENDING, expires__gt=timezone.now()
    ).first()


@dataclass(frozen=True)
class DeviceConsent:
    """What the consent screen shows: the application, the API and what the person would allow."""

    client: Client
    api: Api | None
    scopes: list[str]
    descriptions: list[str]


def device_consent(grant: AbstractDeviceGrant, user: User) -> DeviceConsent | None:
    """The consent for ``user``: the scopes the device asked for that the token policy would
    grant this person (the token endpoint decides again, and runs the rules). None when the
    application no longer exists or no longer allows the device flow."""
    client = client_by_client_id(grant.client_id)
    if client is None or not device_flow_allowed(client):
        return None
    details = DeviceAuthorization.objects.filter(device_grant_id=grant.pk).first()
    api = api_by_identifier(details.audience) if details is not None and details.audience else None
    decisions = decide_scopes(user=user, api=api, requested=grant.scope.split())
    scopes = [decision.scope for decision in decisions if decision.granted]
    described = ApiScopes().get_all_scopes()
    return DeviceConsent(client, api, scopes, [described.get(scope, scope) for scope in scopes])


def device_step_up(user: User, client: Client, authentication: Authentication) -> StepUpRequired | None:
    """The second factor this sign-in lacks when the policy or the application wants one
    (asked here: nobody is at the token endpoint to ask)."""
    if acr_met(ACR_MFA, authentication.methods) or not mfa_reasons(user=user, client=client, rules=None):
        return None
    return StepUpRequired(ACR_MFA, enrol=not has_second_factor(user))


@transaction.atomic
def device_grant_answer(*, grant_id: int, user: User, authentication: Authentication, allowed: bool) -> bool:
    """The person's answer for the device: approved with how they signed in, or denied.
    False when the request is no longer pending (answered, expired, gone)."""
    grant = DeviceGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None or grant.status != DeviceGrant.AUTHORIZATION_PENDING or grant.is_expired():
        return False
    grant.user = user
    grant.status = DeviceGrant.AUTHORIZED if allowed else DeviceGrant.DENIED
    grant.save(update_fields=["user", "status"])  # not last_checked: that is the last poll
    auth_time = signed_in_at(authentication, user)
    DeviceAuthorization.objects.filter(device_grant_id=grant.pk).update(
        amr=authentication.amr,
        acr=acr_of(authentication.methods) or "",
        auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time is not None else None,
    )
    details = DeviceAuthorization.objects.filter(device_grant_id=grant.pk).first()
    consent_answered(
        user=user,
        client_id=grant.client_id,
        audience=details.audience if details is not None else "",
        scopes=grant.scope,
        allowed=allowed,
    )
    return True
