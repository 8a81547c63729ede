"""URLs of the second factor's sign-in steps and the account's security page (see
accounts/mfa/urls.py, which puts them in the ``accounts`` namespace)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import account_views, views

urlpatterns: list[URLPattern] = [
    path("login/verify/", views.mfa_verify, name="mfa_verify"),
    path("login/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("account/security/", account_views.mfa_factors, name="mfa_factors"),
    path("account/security/authenticator/", account_views.mfa_totp_add, name="mfa_totp_add"),
    path(
        "account/security/authenticator/<int:pk>/remove/",
        account_views.mfa_totp_remove,
        name="mfa_totp_remove",
    ),
    path("account/security/recovery-codes/", account_views.mfa_recovery_codes, name="mfa_recovery_codes"),
]
