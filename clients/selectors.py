"""Reads of applications and their client grants."""

from __future__ import annotations

from django.db.models import QuerySet

from apis.models import Api

from .models import Client, ClientGrant


def client_list() -> QuerySet[Client]:
    return Client.objects.order_by("name")


def client_grant_scopes(*, client: Client, api: Api) -> set[str] | None:
    """The scopes ``client`` was granted on ``api``, or None when it has no grant."""
    grant = ClientGrant.objects.filter(client=client, api=api).prefetch_related("scopes").first()
    return None if grant is None else {scope.value for scope in grant.scopes.all()}


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
