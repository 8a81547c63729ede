"""Reads of the API registry: APIs, their scopes, the published signing keys."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .keys import signing_keys_published
from .models import Api, Scope


def api_list() -> QuerySet[Api]:
    return Api.objects.annotate(scope_count=Count("scopes")).order_by("name")


def api_get(*, pk: int) -> Api:
    return Api.objects.get(pk=pk)


def api_by_identifier(identifier: str) -> Api | None:
    return Api.objects.prefetch_related("scopes").filter(identifier=identifier).first()


def scope_list(*, api: Api) -> QuerySet[Scope]:
    return api.scopes.order_by("value")


__all__ = ["api_by_identifier", "api_get", "api_list", "scope_list", "signing_keys_published"]
