"""Dashboard URLs for APIs, their scopes and signing material."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "apis"

urlpatterns = [
    path("", views.api_list, name="list"),
    path("new/", views.api_create, name="create"),
    path("<int:pk>/", views.api_detail, name="detail"),
    path("<int:pk>/settings/", views.api_update, name="update"),
    path("<int:pk>/delete/", views.api_delete, name="delete"),
    path("<int:pk>/scopes/", views.scope_create, name="scope_create"),
    path("<int:pk>/scopes/<int:scope_pk>/", views.scope_update, name="scope_update"),
    path("<int:pk>/scopes/<int:scope_pk>/delete/", views.scope_delete, name="scope_delete"),
    path("<int:pk>/signing/secret/", views.api_secret_reveal, name="secret_reveal"),
    path("<int:pk>/signing/secret/rotate/", views.api_secret_rotate, name="secret_rotate"),
    path("<int:pk>/signing/key/rotate/", views.signing_key_rotate, name="signing_key_rotate"),
]
