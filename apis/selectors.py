"""Reads of the API registry: APIs, their scopes, the published signing keys."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.listing import ordering, search_filter
from accounts.versions import CONFIGURATION, VersionedCache

from .key_schedule import KeySchedule
from .key_schedule import signing_key_schedule as _schedule
from .keys import signing_keys_published
from .models import Api, Scope


def api_list() -> QuerySet[Api]:
    return Api.objects.annotate(scope_count=Count("scopes")).order_by("name")


# The dashboard list's columns that sort, and the fields each orders by.
API_LIST_SORTS = {"name": ("name",), "identifier": ("identifier",), "created": ("created_at",)}


def api_list_search(*, search: str = "", sort: str = "name") -> QuerySet[Api]:
    """The dashboard's list: APIs whose name or identifier contains ``search``, in the
    ``sort`` order (a key of ``API_LIST_SORTS``, ``-`` first for descending)."""
    return (
        api_list()
        .filter(search_filter(search, ("name", "identifier")))
        .order_by(*ordering(sort, API_LIST_SORTS))
    )


def api_list_for_people() -> QuerySet[Api]:
    """The APIs a person's token may be for: all but the Management API, which takes
    machine clients' tokens only (so no role offers its scopes, no sign-in asks for them)."""
    return api_list().filter(system=False)


def person_scopes() -> QuerySet[Scope]:
    """The scopes a role may hold: those of api_list_for_people, by API then value."""
    scopes = Scope.objects.filter(api__system=False).select_related("api")
    return scopes.order_by("api__name", "api_id", "value")


def api_get(*, pk: int) -> Api:
    return Api.objects.get(pk=pk)


# Asked on every token request; kept while the configuration is unchanged (accounts.versions).
_apis: VersionedCache[str, Api] = VersionedCache("APIs with their scopes", CONFIGURATION, max_entries=1024)


def api_by_identifier(identifier: str) -> Api | None:
    """The registered API with its scopes (prefetched), or None.

    The instance is shared by the requests of this process: read it, never change it.
    Unknown identifiers are not remembered.
    """
    found, api = _apis.lookup(identifier)
    if found:
        return api
    api = Api.objects.prefetch_related("scopes").filter(identifier=identifier).first()
    if api is not None:
        _apis.put(identifier, api)
    return api


def scope_list(*, api: Api) -> QuerySet[Scope]:
    return api.scopes.order_by("value")


def signing_key_schedule() -> KeySchedule:
    """The signing keys' schedule for the dashboard: the current and next keys, when the next
    ones are published and when they sign (``apis.key_schedule``, which the beat task follows)."""
    return _schedule()


__all__ = [
    "api_by_identifier",
    "api_get",
    "api_list",
    "scope_list",
    "signing_key_schedule",
    "signing_keys_published",
]
