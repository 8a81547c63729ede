"""Passkeys' URLs, in the ``accounts`` namespace (see accounts/mfa/urls.py): the JSON the
browser's WebAuthn calls use, and the security page's rename and remove forms."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import passkey_views

urlpatterns: list[URLPattern] = [
    path(
        "account/passkeys/register/options/",
        passkey_views.passkey_register_options,
        name="passkey_register_options",
    ),
    path("account/passkeys/register/", passkey_views.passkey_register_verify, name="passkey_register"),
    path(
        "account/passkeys/recovery-codes/",
        passkey_views.passkey_recovery_codes,
        name="passkey_recovery_codes",
    ),
    path(
        "login/passkey/options/",
        passkey_views.passkey_authenticate_options,
        name="passkey_authenticate_options",
    ),
    path("login/passkey/", passkey_views.passkey_authenticate_verify, name="passkey_authenticate"),
    path("account/passkeys/<int:pk>/rename/", passkey_views.passkey_rename_view, name="passkey_rename"),
    path("account/passkeys/<int:pk>/remove/", passkey_views.passkey_remove_view, name="passkey_remove"),
]
