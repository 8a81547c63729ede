"""Passkeys and security keys (WebAuthn, through py_webauthn): registering one, proving one.

The relying party is this server: its id is the host name of ``WEBAUTHN_ORIGIN`` (when set)
or of ``OIDC_ISSUER``, and a browser's answer must come from that origin. Every ceremony's
challenge waits in the session for ``CHALLENGE_SECONDS`` and is taken out by the first
answer, right or wrong, so an answer cannot be replayed and a stale one is refused.

A passkey proves possession of a key: ``hwk`` when it is bound to its device, ``swk`` when
it is backed up (synced by a password manager or a platform account), per RFC 8176.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.options_to_json_dict import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..audit import audit_record
from ..models import User
from .context import HARDWARE_KEY, SOFTWARE_KEY
from .factors import factor_removal_refusal, factor_removed
from .models import Passkey
from .passkey_failures import PasskeyError, address_check, attempts_forget, failure_record, lockout_check
from .recovery import recovery_codes_generate
from .selectors import has_second_factor

CHALLENGE_SECONDS = 120
TIMEOUT_MS = CHALLENGE_SECONDS * 1000
NAME_MAX = Passkey._meta.get_field("name").max_length or 60
REGISTRATION_KEY = "passkey_registration"
AUTHENTICATION_KEY = "passkey_authentication"
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]

# What an authentication challenge is for (kept with it, checked again at the answer).
SIGN_IN = "sign_in"  # passwordless: any discoverable passkey of an active person
SECOND_STEP = "second_step"  # a pending sign-in's second factor
STEP_UP = "step_up"  # a signed-in person proves a passkey again


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty:
    """This server as WebAuthn sees it: ``WEBAUTHN_ORIGIN`` if set, else the issuer's origin."""
    configured = getattr(settings, "WEBAUTHN_ORIGIN", None) or settings.OIDC_ISSUER
    parts = urlsplit(str(configured))
    host = (parts.hostname or "").lower()
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return RelyingParty(id=host, origin=origin, name=getattr(settings, "MFA_TOTP_ISSUER", "ABC Identity"))


def passkey_method(backed_up: bool) -> str:
    """The RFC 8176 amr value of a passkey: synced ones are software keys."""
    return SOFTWARE_KEY if backed_up else HARDWARE_KEY


# --- Selectors ------------------------------------------------------------------------


def passkey_list(user: User) -> QuerySet[Passkey]:
    return Passkey.objects.filter(user=user).order_by("created_at", "pk")


def passkey_get(user: User, pk: int) -> Passkey:
    """One of ``user``'s passkeys (``Passkey.DoesNotExist`` for anyone else's)."""
    return passkey_list(user).get(pk=pk)


def passkey_name_suggestion(user: User) -> str:
    count = passkey_list(user).count()
    return "Passkey" if count == 0 else f"Passkey {count + 1}"


def passkey_name_error(user: User, name: str, *, passkey: Passkey | None = None) -> str | None:
    """Why ``name`` cannot name a passkey of ``user`` (``passkey`` being renamed), or None."""
    if not name:
        return "Give the passkey a name, such as the device it is on."
    if len(name) > NAME_MAX:
        return f"A passkey's name has at most {NAME_MAX} characters."
    taken = passkey_list(user).filter(name=name)
    if passkey is not None:
        taken = taken.exclude(pk=passkey.pk)
    if taken.exists():
        return f"You already have a passkey named “{name}”."
    return None


# --- Challenges -----------------------------------------------------------------------


def _challenge_keep(session: SessionBase, key: str, challenge: bytes, **state: Any) -> None:
    session[key] = {
        "challenge": bytes_to_base64url(challenge),
        "until": int(time.time()) + CHALLENGE_SECONDS,
        **state,
    }


def _challenge_take(session: SessionBase, key: str) -> dict[str, Any]:
    """The challenge waiting under ``key``, taken out: each is answered once."""
    state = session.pop(key, None)
    if not isinstance(state, dict) or not state.get("challenge"):
        raise PasskeyError("There is no passkey request to answer: start again.")
    if int(state.get("until", 0)) < time.time():
        raise PasskeyError("The passkey request expired: start again.")
    return state


# --- Registration ---------------------------------------------------------------------


def passkey_registration_options(session: SessionBase, *, user: User, name: str) -> dict[str, Any]:
    """The options for ``navigator.credentials.create()``; the challenge waits in ``session``."""
    error = passkey_name_error(user, name)
    if error:
        raise PasskeyError(error, field="name")
    party = relying_party()
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=party.name,
        user_name=user.email,
        user_id=user.sub.bytes,
        user_display_name=user.get_full_name(),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        # The browser refuses to make a second credential on an authenticator already holding one.
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_credential_bytes(passkey.credential_id))
            for passkey in passkey_list(user)
        ],
        supported_pub_key_algs=ALGORITHMS,
    )
    _challenge_keep(session, REGISTRATION_KEY, options.challenge, user=user.pk, name=name)
    return options_to_json_dict(options)


def passkey_register(
    session: SessionBase, *, user: User, credential: Any
) -> tuple[Passkey, list[str] | None]:
    """Check the browser's answer to the registration options and keep the passkey, under
    the name given with the options; a person's first second factor comes with recovery
    codes, returned to be shown once. ``PasskeyError`` says why one is refused."""
    state = _challenge_take(session, REGISTRATION_KEY)
    if state.get("user") != user.pk:
        raise PasskeyError("This passkey request was for another sign-in: start again.")
    party = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_credential_bytes(state["challenge"]),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            supported_pub_key_algs=ALGORITHMS,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyError(f"The passkey could not be registered. {_why(error)}") from error
    first = not has_second_factor(user)
    with transaction.atomic():
        passkey = _passkey_keep(
            user=user, name=str(state.get("name", "")), verified=verified, credential=credential
        )
        return passkey, recovery_codes_generate(actor=user, user=user) if first else None


def _transports(credential: Any) -> list[str]:
    response = credential.get("response") if isinstance(credential, dict) else None
    found = response.get("transports") if isinstance(response, dict) else None
    known = {"usb", "nfc", "ble", "internal", "hybrid", "cable", "smart-card"}
    return [str(t) for t in found if t in known][:8] if isinstance(found, list) else []


def _passkey_keep(*, user: User, name: str, verified: Any, credential: Any) -> Passkey:
    credential_id = bytes_to_base64url(verified.credential_id)
    error = passkey_name_error(user, name)
    if error:
        raise PasskeyError(error)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise PasskeyError("This passkey is already registered.")
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                name=name,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=_transports(credential),
                backed_up=verified.credential_backed_up,
            )
            audit_record(
                actor=user,
                action="mfa.passkey.enrol",
                target=user,
                after={"name": name, "type": passkey_method(passkey.backed_up)},
            )
    except IntegrityError as clash:  # the same name or key registered meanwhile
        raise PasskeyError("This passkey or its name is already registered: try again.") from clash
    return passkey


# --- Authentication -------------------------------------------------------------------


def passkey_authentication_options(
    session: SessionBase, *, purpose: str, user: User | None
) -> dict[str, Any]:
    """The options for ``navigator.credentials.get()``: ``user``'s passkeys for a second
    step or a step-up; none listed for a passwordless sign-in (the browser offers the
    discoverable passkeys it holds for this site)."""
    allowed = passkey_list(user) if user is not None else Passkey.objects.none()
    if user is not None and not allowed.exists():
        raise PasskeyError("You have no passkey yet: use another way to sign in.")
    party = relying_party()
    options = generate_authentication_options(
        rp_id=party.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=_credential_bytes(passkey.credential_id)) for passkey in allowed
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _challenge_keep(
        session, AUTHENTICATION_KEY, options.challenge, purpose=purpose, user=user.pk if user else None
    )
    return options_to_json_dict(options)


@dataclass(frozen=True)
class PasskeyAssertion:
    """A passkey proved: whose, which amr value, and whether the person was verified
    (a PIN or biometric on the authenticator), which makes a passkey alone multi-factor."""

    passkey: Passkey
    method: str
    user_verified: bool


def passkey_authenticate(
    request: Any, *, purpose: str, user: User | None, credential: Any
) -> PasskeyAssertion:
    """Check the browser's answer to the authentication options issued for ``purpose``
    (and ``user``, None for a passwordless sign-in). A wrong answer for a known account is a
    ``security.mfa.failure`` and counts toward that account's lockout."""
    session = request.session
    state = _challenge_take(session, AUTHENTICATION_KEY)
    if state.get("purpose") != purpose or state.get("user") != (user.pk if user else None):
        raise PasskeyError("This passkey request was for another sign-in: start again.")
    if user is not None:
        lockout_check(request, user)
    else:
        address_check(request)
    try:
        passkey = _passkey_answering(credential, user=user)
    except PasskeyError as error:
        failure_record(request, user, error.message)
        raise
    if user is None:
        lockout_check(request, passkey.user)
    party = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=_credential_bytes(state["challenge"]),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        failure_record(request, passkey.user, str(error))
        raise PasskeyError(_why(error)) from error
    Passkey.objects.filter(pk=passkey.pk).update(
        sign_count=verified.new_sign_count,
        backed_up=verified.credential_backed_up,
        last_used_at=timezone.now(),
    )
    passkey.refresh_from_db()
    attempts_forget(passkey.user)
    return PasskeyAssertion(
        passkey=passkey, method=passkey_method(passkey.backed_up), user_verified=verified.user_verified
    )


def _passkey_answering(credential: Any, *, user: User | None) -> Passkey:
    """The passkey the answer names: ``user``'s own, or for a passwordless sign-in one of
    an active person whose handle the authenticator returned with it."""
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyError("The passkey's answer could not be read: try again.") from error
    passkey = Passkey.objects.select_related("user").filter(credential_id=parsed.id).first()
    if passkey is None:
        raise PasskeyError("This passkey is not registered here.")
    if user is not None and passkey.user_id != user.pk:
        raise PasskeyError("This passkey is not registered to your account.")
    if user is None:
        if passkey.user.deleted_at is not None or not passkey.user.is_active:
            raise PasskeyError("This account cannot sign in: ask an administrator.")
        handle = parsed.response.user_handle
        if handle and bytes(handle) != passkey.user.sub.bytes:
            raise PasskeyError("This passkey is not registered here.")
    return passkey


def _why(error: Exception) -> str:
    text = str(error)
    if "sign count" in text.lower():
        # A count that goes backwards: the key was copied, or an answer replayed.
        return "This passkey's use count went backwards, so it may have been copied: it is refused."
    if "origin" in text.lower() or "rp id" in text.lower():
        return "This passkey answered for another site: it is refused."
    return "The passkey could not be verified: try again."


# --- Self-service ---------------------------------------------------------------------


@transaction.atomic
def passkey_rename(*, actor: User, passkey: Passkey, name: str) -> Passkey:
    error = passkey_name_error(passkey.user, name, passkey=passkey)
    if error:
        raise PasskeyError(error)
    before = passkey.name
    passkey.name = name
    passkey.save(update_fields=["name"])
    audit_record(
        actor=actor,
        action="mfa.passkey.rename",
        target=passkey.user,
        before={"name": before},
        after={"name": name},
    )
    return passkey


@transaction.atomic
def passkey_remove(*, actor: User, passkey: Passkey) -> None:
    """Remove ``passkey``, unless it is the last factor of a person who must use one (the
    rules every factor's removal follows: accounts/mfa/factors.py)."""
    user = passkey.user
    reason = factor_removal_refusal(user)
    if reason:
        raise PasskeyError(reason)
    audit_record(
        actor=actor,
        action="mfa.passkey.remove",
        target=user,
        before={"passkey": passkey.pk, "name": passkey.name},
    )
    passkey.delete()
    factor_removed(user=user)


def _credential_bytes(value: str) -> bytes:
    return base64url_to_bytes(value)
