"""The URLs of ``accounts``: sign-in, its dashboard pages, the audit log, and the namespace
that the account page joins."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver, include, path

from . import audit_views, logs_views, self_service_views, views
from .mfa.urls import urlpatterns as mfa_urls

accounts_urls = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard_home, name="dashboard"),
    path("dashboard/users/", views.user_list_view, name="user_list"),
    path("dashboard/lockouts/", views.lockout_list, name="lockouts"),
    path("dashboard/lockouts/<int:pk>/clear/", views.lockout_clear, name="lockout_clear"),
    # Self-service: password links (resets and invitations), password change, email checks.
    path("password/forgot/", self_service_views.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", self_service_views.password_forgot_sent, name="password_forgot_sent"),
    path(
        "password/set/<str:purpose>/<str:uidb64>/<str:token>/",
        self_service_views.password_set,
        name="password_set",
    ),
    path("account/password/", self_service_views.password_change_view, name="password_change"),
    path("account/sessions/", self_service_views.session_list, name="sessions"),
    path("account/sessions/<int:pk>/sign-out/", self_service_views.session_sign_out, name="session_sign_out"),
    path(
        "account/sessions/sign-out-others/",
        self_service_views.sessions_sign_out_others,
        name="sessions_sign_out_others",
    ),
    path("account/email/verify/", self_service_views.email_verify_send, name="email_verify_send"),
    path("email/verify/<str:token>/", self_service_views.email_verify_view, name="email_verify"),
]

# The audit log has a namespace of its own (``audit:list``), as every dashboard section does.
audit_urls = [
    path("dashboard/audit/", audit_views.audit_list, name="list"),
]

# The logs (``logs:list``): every event and change, filtered by the query parameters that
# accounts.logs names (type, user, client, api, ip, from, to), one entry whole, exports.
logs_urls = [
    path("dashboard/logs/", logs_views.log_list, name="list"),
    path("dashboard/logs/<int:pk>/", logs_views.log_detail, name="detail"),
    path("dashboard/logs/export.<str:fmt>", logs_views.log_export, name="export"),
]


def accounts_urlpatterns(*, account_page: Sequence[URLPattern | URLResolver]) -> list[URLResolver]:
    """Our URLs, with ``account_page`` in the ``accounts`` namespace.

    The account page (``accounts:home``, ``/account/``) shows consents, which belong to an
    app above us, so it lives there; ``config/urls.py`` passes its URLs in. Django looks a
    namespaced name up in the first include of that namespace only, so the page's URLs must
    join this include rather than be included beside it under the same namespace.
    """
    return [
        path("", include(([*accounts_urls, *mfa_urls, *account_page], "accounts"))),
        path("", include((audit_urls, "audit"))),
        path("", include((logs_urls, "logs"))),
    ]
