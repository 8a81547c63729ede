"""Resource servers (APIs) and their scopes, and the rotation of the server's signing keys."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis import selectors, services
from apis.models import IDENTIFIER_PATTERN, MAX_TOKEN_LIFETIME, SCOPE_PATTERN, Api, Scope
from apis.rest.serializers import StrictSerializer

from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses

SETTINGS = (
    "token_lifetime",
    "allow_offline_access",
    "rbac_enabled",
    "add_permissions_claim",
    "allow_skip_consent",
)


class ScopeSerializer(StrictSerializer):
    value = serializers.RegexField(
        SCOPE_PATTERN,
        max_length=100,
        help_text="One word of printable ASCII: no spaces, quotes or backslashes.",
    )
    description = serializers.CharField(max_length=200)


class ResourceServerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    identifier = serializers.CharField()
    signing_algorithm = serializers.ChoiceField(choices=Api.Algorithm.choices)
    token_lifetime = serializers.IntegerField()
    allow_offline_access = serializers.BooleanField()
    rbac_enabled = serializers.BooleanField()
    add_permissions_claim = serializers.BooleanField()
    allow_skip_consent = serializers.BooleanField()
    system = serializers.BooleanField(help_text="The Management API itself: it cannot be renamed or deleted.")
    scopes = ScopeSerializer(many=True)


class ResourceServerUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    signing_algorithm = serializers.ChoiceField(choices=Api.Algorithm.choices, required=False)
    token_lifetime = serializers.IntegerField(min_value=60, max_value=MAX_TOKEN_LIFETIME, required=False)
    allow_offline_access = serializers.BooleanField(required=False)
    rbac_enabled = serializers.BooleanField(required=False)
    add_permissions_claim = serializers.BooleanField(required=False)
    allow_skip_consent = serializers.BooleanField(required=False)


class ResourceServerCreateSerializer(ResourceServerUpdateSerializer):
    name = serializers.CharField(max_length=100)
    identifier = serializers.RegexField(
        IDENTIFIER_PATTERN,
        max_length=255,
        help_text="The audience (an absolute URI); it cannot be changed later.",
    )
    # many=True makes a ListSerializer, which takes max_length; the stub types the child.
    scopes = ScopeSerializer(many=True, required=False, max_length=200)  # type: ignore[call-arg]

    def validate_scopes(self, scopes: list[dict]) -> list[dict]:
        values = [scope["value"] for scope in scopes]
        if len(values) != len(set(values)):
            raise serializers.ValidationError("Each scope value may appear once.")
        return scopes


def represent(api: Api) -> dict:
    api = Api.objects.prefetch_related("scopes").get(pk=api.pk)
    return ResourceServerSerializer(api).data


def _queryset():
    return selectors.api_list().prefetch_related("scopes")


class ResourceServerListApi(ManagementApi):
    required_scopes = {"GET": "read:resource_servers", "POST": "create:resource_servers"}

    @extend_schema(
        operation_id="resource_servers_list",
        parameters=CURSOR_PARAMETERS,
        responses=responses({200: page_of(ResourceServerSerializer)}),
    )
    def get(self, request: Request) -> Response:
        return self.page(_queryset(), ResourceServerSerializer)

    @extend_schema(
        operation_id="resource_servers_create",
        parameters=[IDEMPOTENCY_KEY],
        request=ResourceServerCreateSerializer,
        responses=responses({201: ResourceServerSerializer}, 409, 413, 415, 422),
    )
    def post(self, request: Request) -> Response:
        data = ResourceServerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> Response:
            fields = dict(data.validated_data)
            scopes = {scope["value"]: scope["description"] for scope in fields.pop("scopes", [])}
            api = services.api_create(**fields, scopes=scopes, actor=None)
            return self.with_etag(represent(api), status_code=status.HTTP_201_CREATED)

        return self.created(create)


class ResourceServerDetailApi(ManagementApi):
    required_scopes = {
        "GET": "read:resource_servers",
        "PATCH": "update:resource_servers",
        "DELETE": "delete:resource_servers",
    }

    @extend_schema(
        operation_id="resource_servers_get", responses=responses({200: ResourceServerSerializer}, 404)
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.with_etag(represent(get_object_or_404(_queryset(), pk=pk)))

    @extend_schema(
        operation_id="resource_servers_update",
        parameters=[IF_MATCH],
        request=ResourceServerUpdateSerializer,
        responses=responses({200: ResourceServerSerializer}, 404, 409, 412, 413, 415),
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = ResourceServerUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.guarded_write(
            Api.objects.all(),
            represent,
            lambda api: services.api_update(api=api, **data.validated_data, actor=None),
            pk=pk,
        )

    @extend_schema(operation_id="resource_servers_delete", responses=responses({204: None}, 404, 409))
    def delete(self, request: Request, pk: int) -> Response:
        with transaction.atomic():
            services.api_delete(api=get_object_or_404(Api.objects.select_for_update(), pk=pk), actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScopeListApi(ManagementApi):
    required_scopes = {"POST": "update:resource_servers"}

    @extend_schema(
        operation_id="resource_servers_scopes_add",
        request=ScopeSerializer,
        responses=responses({201: ScopeSerializer}, 404, 409, 413, 415),
    )
    def post(self, request: Request, pk: int) -> Response:
        data = ScopeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scope = services.scope_create(api=get_object_or_404(Api, pk=pk), **data.validated_data, actor=None)
        return Response(ScopeSerializer(scope).data, status=status.HTTP_201_CREATED)


class ScopeDetailApi(ManagementApi):
    required_scopes = {"DELETE": "update:resource_servers"}

    @extend_schema(operation_id="resource_servers_scopes_remove", responses=responses({204: None}, 404, 409))
    def delete(self, request: Request, pk: int, value: str) -> Response:
        services.scope_delete(scope=get_object_or_404(Scope, api_id=pk, value=value), actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SigningKeySerializer(serializers.Serializer):
    kid = serializers.CharField(help_text="The new current RSA key's id; the previous keys stay published.")


class SigningKeyRotateApi(ManagementApi):
    required_scopes = {"POST": "update:resource_servers"}

    @extend_schema(
        operation_id="signing_keys_rotate",
        request=None,
        responses=responses({201: SigningKeySerializer}),
        description="Rotate the server's signing keys, shared by every RS256 and ES256 API and ID tokens.",
    )
    def post(self, request: Request) -> Response:
        key = services.signing_key_rotate_now(actor=None)
        return Response({"kid": key.kid}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("resource-servers", ResourceServerListApi.as_view(), name="resource-servers"),
    path(
        "resource-servers/<int:pk>",
        ResourceServerDetailApi.as_view(),
        name="resource-server",
    ),
    path("resource-servers/<int:pk>/scopes", ScopeListApi.as_view(), name="scopes"),
    path(
        "resource-servers/<int:pk>/scopes/<str:value>",
        ScopeDetailApi.as_view(),
        name="scope",
    ),
    path("keys/signing/rotate", SigningKeyRotateApi.as_view(), name="signing-key-rotate"),
]
