"""Reads about a person's second factors."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import User
from .models import Passkey


def totp_devices(user: User):
    """The person's confirmed authenticator apps."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")


def has_second_factor(user: User) -> bool:
    """Whether ``user`` can prove a second factor: a confirmed authenticator app or a
    passkey. Recovery codes alone do not count: they are for when the others are lost."""
    return totp_devices(user).exists() or Passkey.objects.filter(user=user).exists()
