"""Applications (clients): register, read, change, rotate the secret of, and delete them,
through the dashboard's services, so that validation, audit entries and the revocation of a
deleted application's tokens are the same as there."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apis.rest.serializers import HttpUrlField, StrictSerializer
from clients import services
from clients.forms import MAX_REFRESH_LIFETIME
from clients.models import Client

from .base import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, IF_MATCH, ManagementApi, page_of, responses
from .clients_selectors import client_list, client_settings_editable
from .own_access import check_not_self

EDITABLE_HELP = (
    "Each application type has its own settings, as in the dashboard: a machine-to-machine "
    "application has no callbacks, logout URLs, back-channel logout, first-party flag or refresh-token "
    "settings; only a single-page app has allowed origins; public applications (native, single-page) "
    "have no authentication method. A setting the type does not have is refused (400)."
)


# Not whitespace, as Python (which trims strings and splits the stored lists) or a JSON Schema
# pattern (ECMAScript's \s) calls it, so that the API and its schema agree on what is blank.
VISIBLE = r"[^\s\x00\x1c-\x1f\x85\ufeff]"


def _url_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(f"^{VISIBLE}+$", max_length=500),
        max_length=100,
        required=False,
        help_text=help_text,
    )


def _name(*, required: bool) -> serializers.RegexField:
    # What the schema accepts is never blank once trimmed.
    return serializers.RegexField(
        VISIBLE,
        max_length=255,
        required=required,
        error_messages={"invalid": "The name needs a visible character."},
        help_text="Shown to people on the consent screen.",
    )


class ClientSettingsSerializer(StrictSerializer):
    """What may be changed; the type and client id never change."""

    name = _name(required=False)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    logo_uri = HttpUrlField(max_length=500, required=False, allow_blank=True)
    redirect_uris = _url_list("Allowed callback URLs.")
    post_logout_redirect_uris = _url_list("Where people may be sent back after signing out.")
    allowed_origins = _url_list("Web origins (scheme://host[:port]) that may call the token endpoint.")
    token_endpoint_auth_method = serializers.ChoiceField(
        choices=Client.AuthMethod.choices,
        required=False,
        help_text="Confidential applications only: client_secret_basic, client_secret_post, or "
        "private_key_jwt (then with jwks or jwks_uri).",
    )
    jwks = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='Confidential applications only: {"keys": [...]}, the public keys (RSA, EC P-256, '
        "Ed25519) that sign its private_key_jwt assertions; null for none.",
    )
    jwks_uri = HttpUrlField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Confidential applications only: an https URL publishing its JWKS (instead of jwks).",
    )
    first_party = serializers.BooleanField(required=False)
    require_mfa = serializers.BooleanField(
        required=False,
        help_text="Ask for a second factor whenever someone signs in to this application "
        "(applications with a sign-in only).",
    )
    require_dpop = serializers.BooleanField(
        required=False,
        help_text="Issue tokens only bound to the application's key with a DPoP proof (RFC 9449).",
    )
    require_par = serializers.BooleanField(
        required=False,
        help_text="Accept authorization requests only through /oauth/par (RFC 9126); applications "
        "people sign in to only.",
    )
    device_code_enabled = serializers.BooleanField(
        required=False,
        help_text="Allow the device flow (RFC 8628: /oauth/device/code, then /activate); "
        "native and regular web applications only.",
    )
    rotate_refresh_token = serializers.BooleanField(required=False)
    refresh_token_absolute_lifetime = serializers.IntegerField(
        min_value=60, max_value=MAX_REFRESH_LIFETIME, required=False
    )
    refresh_token_idle_lifetime = serializers.IntegerField(
        min_value=60,
        max_value=MAX_REFRESH_LIFETIME,
        required=False,
        help_text="At most the absolute lifetime.",
    )
    logout_revokes_refresh_tokens = serializers.BooleanField(required=False)
    backchannel_logout_uri = HttpUrlField(max_length=500, required=False, allow_blank=True)
    backchannel_logout_session_required = serializers.BooleanField(required=False)


class ClientCreateSerializer(ClientSettingsSerializer):
    name = _name(required=True)
    app_type = serializers.ChoiceField(choices=Client.AppType.choices)


class UrlListField(serializers.ListField):
    """A stored space-separated list of URLs, shown as a JSON array."""

    child = serializers.CharField()

    def to_representation(self, data: Any) -> list[Any]:
        return super().to_representation(str(data).split())


class ClientSerializer(serializers.Serializer):
    """An application as the API shows it: never its secret (stored hashed)."""

    client_id = serializers.CharField()
    name = serializers.CharField()
    app_type = serializers.ChoiceField(choices=Client.AppType.choices)
    public = serializers.BooleanField(
        source="profile.is_public", help_text="A public application has no secret."
    )
    grant_types = serializers.ListField(child=serializers.CharField(), source="profile.grants")
    description = serializers.CharField()
    logo_uri = serializers.CharField()
    redirect_uris = UrlListField()
    post_logout_redirect_uris = UrlListField()
    allowed_origins = UrlListField()
    token_endpoint_auth_method = serializers.ChoiceField(choices=Client.AuthMethod.choices)
    jwks = serializers.JSONField(allow_null=True)
    jwks_uri = serializers.CharField()
    first_party = serializers.BooleanField()
    require_mfa = serializers.BooleanField()
    require_par = serializers.BooleanField()
    require_dpop = serializers.BooleanField()
    device_code_enabled = serializers.BooleanField()
    rotate_refresh_token = serializers.BooleanField()
    refresh_token_absolute_lifetime = serializers.IntegerField()
    refresh_token_idle_lifetime = serializers.IntegerField()
    logout_revokes_refresh_tokens = serializers.BooleanField()
    backchannel_logout_uri = serializers.CharField()
    backchannel_logout_session_required = serializers.BooleanField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class ClientWithSecretSerializer(ClientSerializer):
    client_secret = serializers.CharField(
        allow_null=True,
        help_text="Shown this once (null for a public application, and in an Idempotency-Key replay).",
    )


def represent(client: Client) -> dict[str, Any]:
    return ClientSerializer(client).data


def _refuse_settings_the_type_lacks(app_type: str, given: Collection[str]) -> None:
    missing = sorted(set(given) - client_settings_editable(app_type))
    if missing:
        label = Client.AppType(app_type).label
        raise exceptions.ValidationError(
            {name: [f"A {label} application has no such setting."] for name in missing}
        )


def _no_store(response: Response) -> Response:
    # The body holds a secret in clear: no cache on the way may keep it.
    response["Cache-Control"] = "no-store"
    return response


CLIENT_ID = OpenApiParameter(
    "client_id",
    {"type": "string", "maxLength": 100},
    OpenApiParameter.PATH,
    description="The application's client id.",
)
APP_TYPE = OpenApiParameter(
    "app_type", str, enum=list(Client.AppType.values), description="Only applications of this type."
)


def _by(client_id: str) -> dict[str, str]:
    """The lookup of the client named in the path. No client id holds a NUL, which PostgreSQL
    could not even compare: such a path names nobody."""
    if "\x00" in client_id:
        raise Http404
    return {"client_id": client_id}


def _client_url(client: Client) -> str:
    return reverse("management-api:client", kwargs={"client_id": client.client_id})


class ClientListApi(ManagementApi):
    required_scopes = {"GET": "read:clients", "POST": "create:clients"}

    @extend_schema(
        operation_id="clients_list",
        parameters=[APP_TYPE, *CURSOR_PARAMETERS],
        responses=responses({200: page_of(ClientSerializer)}),
    )
    def get(self, request: Request) -> Response:
        return self.page(client_list(request.query_params), ClientSerializer, ordering=("id",))

    @extend_schema(
        operation_id="clients_create",
        parameters=[IDEMPOTENCY_KEY],
        request=ClientCreateSerializer,
        responses=responses({201: ClientWithSecretSerializer}, 409, 413, 415, 422),
        description="Register an application. A confidential one's secret is in this answer only. "
        + EDITABLE_HELP,
    )
    def post(self, request: Request) -> Response:
        data = ClientCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        app_type = fields.pop("app_type")
        _refuse_settings_the_type_lacks(app_type, set(fields) - {"name"})

        def create() -> Response:
            client, secret = services.client_create(app_type=app_type, **fields, actor=None)
            body = {**represent(client), "client_secret": secret}
            headers = {"Location": _client_url(client)}
            return _no_store(Response(body, status=status.HTTP_201_CREATED, headers=headers))

        return self.created(create, redact=("client_secret",))


class ClientDetailApi(ManagementApi):
    required_scopes = {"GET": "read:clients", "PATCH": "update:clients", "DELETE": "delete:clients"}

    @extend_schema(
        operation_id="clients_get", parameters=[CLIENT_ID], responses=responses({200: ClientSerializer}, 404)
    )
    def get(self, request: Request, client_id: str) -> Response:
        return self.with_etag(represent(get_object_or_404(Client, **_by(client_id))))

    @extend_schema(
        operation_id="clients_update",
        parameters=[CLIENT_ID, IF_MATCH],
        request=ClientSettingsSerializer,
        responses=responses({200: ClientSerializer}, 404, 412, 413, 415),
        description="Change an application's settings (its type and client id never change). "
        + EDITABLE_HELP,
    )
    def patch(self, request: Request, client_id: str) -> Response:
        data = ClientSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def write(client: Client) -> Client:
            _refuse_settings_the_type_lacks(client.app_type, data.validated_data)
            return services.client_update(client=client, **data.validated_data, actor=None)

        return self.guarded_write(Client.objects.all(), represent, write, **_by(client_id))

    @extend_schema(
        operation_id="clients_delete",
        parameters=[CLIENT_ID],
        responses=responses({204: None}, 404, 409),
        description="Delete an application: the access tokens it was given stop working at once. "
        "An application cannot delete itself (409).",
    )
    def delete(self, request: Request, client_id: str) -> Response:
        with transaction.atomic():
            client = get_object_or_404(Client.objects.select_for_update(), **_by(client_id))
            check_not_self(self.principal.client_id, client)
            services.client_delete(client=client, actor=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientSecretRotateApi(ManagementApi):
    required_scopes = {"POST": "update:clients"}

    @extend_schema(
        operation_id="clients_rotate_secret",
        parameters=[CLIENT_ID],
        request=None,
        responses=responses({200: ClientWithSecretSerializer}, 404),
        description="A new secret, in this answer only; the previous one stops working at once. "
        "A public application has no secret (400).",
    )
    def post(self, request: Request, client_id: str) -> Response:
        with transaction.atomic():
            client = get_object_or_404(Client.objects.select_for_update(), **_by(client_id))
            secret = services.client_secret_rotate(client=client, actor=None)
        return _no_store(Response({**represent(client), "client_secret": secret}))


urlpatterns = [
    path("clients", ClientListApi.as_view(), name="clients"),
    path("clients/<str:client_id>", ClientDetailApi.as_view(), name="client"),
    path(
        "clients/<str:client_id>/rotate-secret", ClientSecretRotateApi.as_view(), name="client-rotate-secret"
    ),
]
