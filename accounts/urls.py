"""The URLs of ``accounts``: sign-in, the account page, its dashboard pages, the audit log."""

from __future__ import annotations

from django.urls import include, path

from . import audit_views, views

accounts_urls = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/", views.account_home, name="home"),
    path("dashboard/", views.dashboard_home, name="dashboard"),
    path("dashboard/users/", views.user_list_view, name="user_list"),
    path("dashboard/lockouts/", views.lockout_list, name="lockouts"),
    path("dashboard/lockouts/<int:pk>/clear/", views.lockout_clear, name="lockout_clear"),
]

# The audit log has a namespace of its own (``audit:list``), as every dashboard section does.
audit_urls = [
    path("dashboard/audit/", audit_views.audit_list, name="list"),
]

urlpatterns = [
    path("", include((accounts_urls, "accounts"))),
    path("", include((audit_urls, "audit"))),
]
