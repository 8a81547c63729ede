"""Client grants: which APIs a machine-to-machine application may call, with which scopes,
through the services behind the dashboard's APIs tab (so narrowing or ending a grant ends
the tokens minted under the wider one, as there). A grant on the Management API itself is
how an administrator gives a machine client management rights."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import Conflict
from apis.models import Api
from apis.rest.problems import UnknownReference
from apis.rest.serializers import StrictSerializer
from clients import services
from clients.models import Client, ClientGrant

from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses
from .clients_selectors import NO_NUL, client_grant_list, client_grants
from .own_access import check_keeps_own_grant


class ClientGrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.CharField(source="client.client_id")
    audience = serializers.CharField(source="api.identifier", help_text="The API's identifier.")
    scope = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_scope(self, grant: ClientGrant) -> list[str]:
        return sorted(scope.value for scope in grant.scopes.all())


def _scope_list(*, required: bool) -> serializers.ListField:
    return serializers.ListField(
        # One word of printable characters, as every API scope is (apis.models.scope_value_validator).
        child=serializers.RegexField(r"^[\x21\x23-\x5B\x5D-\x7E]+$", max_length=100),
        max_length=200,
        allow_empty=True,
        required=required,
        help_text="Scopes of the API, granted in full; an empty list grants the API with no scope.",
    )


class ClientGrantUpdateSerializer(StrictSerializer):
    scope = _scope_list(required=False)


class ClientGrantCreateSerializer(StrictSerializer):
    client_id = serializers.CharField(
        max_length=100, help_text="A machine-to-machine application: only those are granted APIs."
    )
    audience = serializers.CharField(max_length=255, help_text="The identifier of the API to grant.")
    scope = _scope_list(required=True)


def represent(grant: ClientGrant) -> dict[str, Any]:
    return ClientGrantSerializer(client_grants().get(pk=grant.pk)).data


def _grant_set(*, client: Client, api: Api, scopes: list[str]) -> ClientGrant:
    """client_grant_set, its refusals pointed at the field they concern: the service checks the
    application's type first (another type is a 409: the application is what it is), then
    the scopes (a scope the API does not define names nothing: 404)."""
    try:
        return services.client_grant_set(client=client, api=api, scopes=scopes, actor=None)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        if client.app_type != Client.AppType.M2M:
            raise Conflict({"client_id": error.messages}) from error
        raise UnknownReference({"scope": error.messages}) from error


def _not_found(field: str, message: str) -> exceptions.NotFound:
    """A 404 for an object the body names, with the field's pointer."""
    error = exceptions.NotFound(message)
    error.field_errors = {field: [message]}  # type: ignore[attr-defined]
    return error


def _grant_create(data: dict[str, Any]) -> ClientGrant:
    """A new grant; an existing one for the same application and API is a 409 (change it with
    PATCH), where the service would quietly replace its scopes."""
    api = Api.objects.filter(identifier=data["audience"]).first()
    if api is None:
        raise _not_found("audience", "No API has this identifier.")
    with transaction.atomic():
        # The application's row lock makes two concurrent creates of one grant take turns.
        client = Client.objects.select_for_update().filter(client_id=data["client_id"]).first()
        if client is None:
            raise _not_found("client_id", "No application has this client id.")
        existing = ClientGrant.objects.filter(client=client, api=api).values_list("pk", flat=True).first()
        if existing is not None:
            raise Conflict(
                f"{client.client_id} is already granted {api.identifier}: change that grant "
                f"(client-grants/{existing}) instead."
            )
        return _grant_set(client=client, api=api, scopes=data["scope"])


CLIENT_ID = OpenApiParameter(
    "client_id",
    {"type": "string", "maxLength": 100, "pattern": NO_NUL},
    description="Only this application's grants.",
)
AUDIENCE = OpenApiParameter(
    "audience",
    {"type": "string", "maxLength": 255, "pattern": NO_NUL},
    description="Only grants on the API with this identifier.",
)


class ClientGrantListApi(ManagementApi):
    required_scopes = {"GET": "read:client_grants", "POST": "create:client_grants"}

    @extend_schema(
        operation_id="client_grants_list",
        parameters=[CLIENT_ID, AUDIENCE, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(ClientGrantSerializer)}),
    )
    def get(self, request: Request) -> Response:
        return self.page(client_grant_list(request.query_params), ClientGrantSerializer, ordering=("id",))

    @extend_schema(
        operation_id="client_grants_create",
        parameters=[IDEMPOTENCY_KEY],
        request=ClientGrantCreateSerializer,
        responses=responses({201: ClientGrantSerializer}, 404, 409, 413, 415, 422),
        description="Authorize a machine-to-machine application to call an API with some of its scopes: "
        "404 for a scope the API does not define or an unknown client_id or audience, 409 for "
        "another type of application or when the application already has a grant on that API.",
    )
    def post(self, request: Request) -> Response:
        data = ClientGrantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> Response:
            grant = _grant_create(data.validated_data)
            location = reverse("management-api:client-grant", kwargs={"pk": grant.pk})
            return Response(represent(grant), status=status.HTTP_201_CREATED, headers={"Location": location})

        return self.created(create)


class ClientGrantDetailApi(ManagementApi):
    required_scopes = {
        "GET": "read:client_grants",
        "PATCH": "update:client_grants",
        "DELETE": "delete:client_grants",
    }

    @extend_schema(operation_id="client_grants_get", responses=responses({200: ClientGrantSerializer}, 404))
    def get(self, request: Request, pk: int) -> Response:
        return self.with_etag(represent(get_object_or_404(ClientGrant, pk=pk)))

    @extend_schema(
        operation_id="client_grants_update",
        parameters=[IF_MATCH],
        request=ClientGrantUpdateSerializer,
        responses=responses({200: ClientGrantSerializer}, 404, 409, 412, 413, 415),
        description="Replace the grant's scopes. Tokens minted under scopes taken away stop working. "
        "The calling application cannot narrow its own Management API grant (409).",
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = ClientGrantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scopes = data.validated_data.get("scope")

        def write(grant: ClientGrant) -> ClientGrant:
            if scopes is None:  # nothing to change
                return grant
            check_keeps_own_grant(self.principal.client_id, grant, scopes)
            return _grant_set(client=grant.client, api=grant.api, scopes=scopes)

        return self.guarded_write(
            ClientGrant.objects.select_related("client", "api"), represent, write, pk=pk
        )

    @extend_schema(
        operation_id="client_grants_delete",
        responses=responses({204: None}, 404, 409),
        description="End the grant: the application's tokens for that API stop working at once. "
        "The calling application cannot end its own Management API grant (409).",
    )
    def delete(self, request: Request, pk: int) -> Response:
        with transaction.atomic():
            grant = get_object_or_404(
                ClientGrant.objects.select_for_update().select_related("client", "api"), pk=pk
            )
            check_keeps_own_grant(self.principal.client_id, grant, None)
            services.client_grant_delete(client=grant.client, api=grant.api, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("client-grants", ClientGrantListApi.as_view(), name="client-grants"),
    path("client-grants/<int:pk>", ClientGrantDetailApi.as_view(), name="client-grant"),
]
