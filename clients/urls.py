"""Dashboard URLs for applications: their settings, credentials, API grants and deletion."""

from __future__ import annotations

from django.urls import path

from . import introspection_views, views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/settings/", views.client_update, name="update"),
    path("<int:pk>/delete/", views.client_delete, name="delete"),
    path("<int:pk>/credentials/rotate/", views.client_secret_rotate, name="secret_rotate"),
    path("<int:pk>/apis/<int:api_pk>/", views.client_grant, name="grant"),
    path(
        "<int:pk>/introspection/<int:api_pk>/", introspection_views.client_introspection, name="introspection"
    ),
]
