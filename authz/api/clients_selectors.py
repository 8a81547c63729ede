"""Reads for the Management API's applications and client grants, narrowed by django-filter
sets whose errors are the API's 400s; and which settings each application type has."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict
from rest_framework import exceptions

from clients import selectors
from clients.forms import ClientSettingsForm
from clients.models import Client, ClientGrant

# Query parameters are text without NUL (a database cannot compare with it; django-filter's
# fields refuse it): the schema says so.
NO_NUL = "^[^\\x00]*$"


def filtered(
    filterset_class: type[django_filters.FilterSet], params: QueryDict, queryset: QuerySet
) -> QuerySet:
    """``queryset`` narrowed by the query parameters ``filterset_class`` knows; a value it
    refuses is a 400 naming the parameter."""
    narrowed = filterset_class(params, queryset=queryset)
    if not narrowed.is_valid():
        raise exceptions.ValidationError(narrowed.errors)
    return narrowed.qs


class ClientFilter(django_filters.FilterSet):
    app_type = django_filters.ChoiceFilter(choices=Client.AppType.choices)

    class Meta:
        model = Client
        fields = ["app_type"]


def client_list(params: QueryDict) -> QuerySet[Client]:
    return filtered(ClientFilter, params, selectors.client_list())


def client_settings_editable(app_type: str) -> frozenset[str]:
    """The settings an application of ``app_type`` has: those the dashboard's settings form
    offers it (a machine has no callbacks, only a SPA has web origins, a public application
    no authentication method), so that the API and the dashboard cannot disagree."""
    form = ClientSettingsForm(Client(app_type=app_type))
    return frozenset(form.fields) - set(ClientSettingsForm.READ_ONLY)


class ClientGrantFilter(django_filters.FilterSet):
    client_id = django_filters.CharFilter(field_name="client__client_id", max_length=100)
    audience = django_filters.CharFilter(field_name="api__identifier", max_length=255)

    class Meta:
        model = ClientGrant
        fields = ["client_id", "audience"]


def client_grants() -> QuerySet[ClientGrant]:
    return ClientGrant.objects.select_related("client", "api").prefetch_related("scopes")


def client_grant_list(params: QueryDict) -> QuerySet[ClientGrant]:
    return filtered(ClientGrantFilter, params, client_grants())
