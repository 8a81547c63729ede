"""Reads of applications and their client grants.

The token endpoint asks for a client and its grant on every request: those answers are kept
in the process while the configuration is unchanged (``accounts.versions``), so a rotated
secret, a removed grant or a deleted client counts at once in every process.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.listing import ordering, search_filter
from accounts.versions import CONFIGURATION, VersionedCache
from apis.models import Api

from .models import Client, ClientGrant


def client_list() -> QuerySet[Client]:
    return Client.objects.order_by("name")


# The dashboard list's columns that sort, and the fields each orders by.
CLIENT_LIST_SORTS = {"name": ("name",), "type": ("app_type", "name"), "created": ("created",)}


def client_list_search(*, search: str = "", sort: str = "name") -> QuerySet[Client]:
    """The dashboard's list: applications whose name or client id contains ``search``, in
    the ``sort`` order (a key of ``CLIENT_LIST_SORTS``, ``-`` first for descending)."""
    matching = Client.objects.filter(search_filter(search, ("name", "client_id")))
    return matching.order_by(*ordering(sort, CLIENT_LIST_SORTS))


_clients: VersionedCache[str, Client] = VersionedCache("clients", CONFIGURATION, max_entries=20_000)
_grants: VersionedCache[tuple[int, int], frozenset[str] | None] = VersionedCache(
    "client grants", CONFIGURATION, max_entries=20_000
)


def client_by_client_id(client_id: str) -> Client | None:
    """The registered client ``client_id`` names (with its hashed secret), or None.

    The instance is shared by the requests of this process: read it, never change it.
    Unknown ids are not remembered, so guessing them cannot push real clients out.
    """
    found, client = _clients.lookup(client_id)
    if found:
        return client
    client = Client.objects.filter(client_id=client_id).first()
    if client is not None:
        _clients.put(client_id, client)
    return client


def client_grant_scopes(*, client: Client, api: Api) -> frozenset[str] | None:
    """The scopes ``client`` was granted on ``api``, or None when it has no grant."""

    def load() -> frozenset[str] | None:
        grant = ClientGrant.objects.filter(client=client, api=api).prefetch_related("scopes").first()
        return None if grant is None else frozenset(scope.value for scope in grant.scopes.all())

    return _grants.get_or_load((client.pk, api.pk), load)


def client_grants(*, client: Client) -> dict[int, set[str]]:
    """Granted scope values per API id, for the dashboard's APIs tab."""
    grants = ClientGrant.objects.filter(client=client).prefetch_related("scopes")
    return {grant.api_id: {scope.value for scope in grant.scopes.all()} for grant in grants}


def origin_allowed(origin: str) -> bool:
    """Whether any application lists ``origin`` among its allowed web origins (CORS)."""
    candidates = Client.objects.filter(allowed_origins__contains=origin).values_list(
        "allowed_origins", flat=True
    )
    return any(origin in origins.split() for origins in candidates)
