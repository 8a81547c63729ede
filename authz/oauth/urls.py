"""The protocol endpoints, at the paths clients expect.

The namespace is django-oauth-toolkit's own, because its views reverse their URLs by name.
Its owner-scoped application management views are deliberately left out: clients are
managed in our dashboard.
"""

from django.urls import path

from apis.views import jwks

from . import device_views, discovery, introspection, logout, par_views, userinfo, views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize", views.AuthorizationView.as_view(), name="authorize"),
    path("oauth/token", views.TokenView.as_view(), name="token"),
    path("oauth/revoke", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/par", par_views.PushedAuthorizationRequestView.as_view(), name="par"),
    path("oauth/device/code", device_views.DeviceAuthorizationView.as_view(), name="device-authorization"),
    path("activate", device_views.activate, name="device-activate"),
    path("activate/confirm", device_views.activate_confirm, name="device-confirm"),
    path("oauth/introspect", introspection.IntrospectTokenView.as_view(), name="introspect"),
    path("oauth/logout", logout.EndSessionView.as_view(), name="rp-initiated-logout"),
    path("userinfo", userinfo.userinfo, name="user-info"),
    path(
        ".well-known/openid-configuration", discovery.openid_configuration, name="oidc-connect-discovery-info"
    ),
    path(".well-known/jwks.json", jwks, name="jwks-info"),
]
