"""Reading the APIs, applications and client grants of a configuration file.

Each API, scope and application is checked as the dashboard's services check it: an
unsaved model instance goes through the model's own ``full_clean`` (field formats, callback
and origin rules for its type, lifetimes), and each URL of a list is checked on its own so
that a problem names its place (``applications[2].callbacks[0]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from apis.models import Api, Scope
from clients.callbacks import validate_callback, validate_origin
from clients.models import Client
from clients.types import PROFILES, AppType

from .transfer_format import API_FIELDS, CLIENT_FIELDS, CLIENT_LISTS, MANAGEMENT, ApiSpec, ClientSpec

if TYPE_CHECKING:
    from .transfer_read import Reader

SCOPE_FIELDS = ("value", "description")
URL_WORDS = {"callbacks": "callback URL", "logout_urls": "logout URL", "allowed_origins": "web origin"}


def read_apis(r: Reader) -> None:
    """The file's APIs with their scopes and settings; the system API is not among them."""
    for where, entry in r.objects("apis"):
        r.keys(entry, ("identifier", *API_FIELDS, "scopes"), where)
        identifier = entry.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            r.error(f"{where}.identifier", f"{where}: “identifier” must be a non-empty string.")
            continue
        identifier = identifier.strip()
        label = f"API {identifier}"
        if identifier in (MANAGEMENT, r.management):
            r.error(
                f"{where}.identifier",
                f"{label}: the system API is not part of a file; an import cannot create or change it.",
            )
            continue
        values, bad = r.field_values(Api, API_FIELDS, entry, where, label)
        r.full_clean(Api(identifier=identifier, **values), where, label, exclude=["hs256_secret", *bad])
        scopes = _scopes(r, entry.get("scopes", []), f"{where}.scopes", label)
        if identifier in r.state.apis:
            r.error(f"{where}.identifier", f"{label} appears more than once.")
            continue
        r.state.apis[identifier] = ApiSpec(values, scopes)
        r.state.paths[("api", identifier)] = where
        r.identifiers.add(identifier)
        r.scopes |= {(identifier, value) for value in scopes}


def _scopes(r: Reader, value: Any, where: str, label: str) -> dict[str, str]:
    scopes: dict[str, str] = {}
    for path, entry in r.items(value, where):
        r.keys(entry, SCOPE_FIELDS, path, label)
        values, bad = r.field_values(Scope, SCOPE_FIELDS, entry, path, label)
        r.full_clean(Scope(**values), path, label, exclude=["api", *bad])
        if "value" not in values:
            continue
        if values["value"] in scopes:
            r.error(f"{path}.value", f"{label}: the scope “{values['value']}” appears more than once.")
            continue
        scopes[values["value"]] = values.get("description", "")
    return scopes


def read_applications(r: Reader) -> None:
    """The file's applications; an existing application keeps its type (it cannot change)."""
    stored_types = dict(Client.objects.values_list("client_id", "app_type"))
    allowed = ("client_id", "app_type", *CLIENT_FIELDS, *CLIENT_LISTS, "may_introspect")
    for where, entry in r.objects("applications"):
        r.keys(entry, allowed, where)
        client_id, app_type = entry.get("client_id"), entry.get("app_type")
        if not isinstance(client_id, str) or not client_id.strip():
            r.error(f"{where}.client_id", f"{where}: “client_id” must be a non-empty string.")
            continue
        client_id = client_id.strip()
        label = f"Application {client_id}"
        if not isinstance(app_type, str) or app_type not in PROFILES:
            types = ", ".join(AppType.values)
            r.error(f"{where}.app_type", f"{label}: “app_type” must be one of {types}.")
            continue
        if stored_types.get(client_id, app_type) != app_type:
            r.error(
                f"{where}.app_type",
                f"{label}: an application's type cannot change (it is {stored_types[client_id]} here).",
            )
        spec = _application(r, entry, where, label, client_id=client_id, app_type=app_type)
        if client_id in r.state.applications:
            r.error(f"{where}.client_id", f"{label} appears more than once.")
            continue
        r.state.applications[client_id] = spec
        r.state.paths[("application", client_id)] = where


def _application(
    r: Reader, entry: dict, where: str, label: str, *, client_id: str, app_type: str
) -> ClientSpec:
    profile = PROFILES[app_type]
    values, bad = r.field_values(
        Client,
        CLIENT_FIELDS,
        {"token_endpoint_auth_method": profile.default_auth_method, **entry},
        where,
        label,
    )
    if values.get("token_endpoint_auth_method", profile.default_auth_method) not in profile.auth_methods:
        methods = ", ".join(profile.auth_methods)
        r.error(
            f"{where}.token_endpoint_auth_method",
            f"{label}: a {app_type} application authenticates with {methods}.",
        )
        bad.append("token_endpoint_auth_method")
    lists = {key: _urls(r, entry.get(key, []), f"{where}.{key}", label, app_type) for key in CLIENT_LISTS}
    # What the dashboard's settings form does not offer for the type is refused here too.
    if app_type != AppType.SPA and lists["allowed_origins"]:
        r.error(f"{where}.allowed_origins", f"{label}: only single page apps have allowed web origins.")
    if not profile.has_callbacks and (lists["logout_urls"] or values.get("backchannel_logout_uri")):
        r.error(f"{where}.logout_urls", f"{label}: machine-to-machine applications have no sign-out URLs.")
    client = Client(
        client_id=client_id,
        app_type=app_type,
        client_type=profile.client_type,
        authorization_grant_type=profile.grant_type,
        hash_client_secret=not profile.is_public,
        algorithm=Client.RS256_ALGORITHM if profile.has_callbacks else Client.NO_ALGORITHM,
        **values,
        **{field: " ".join(sorted(lists[key])) for key, field in CLIENT_LISTS.items()},
    )
    rename = {field: key for key, field in CLIENT_LISTS.items()}
    r.full_clean(client, where, label, exclude=["client_secret", "user", *bad], rename=rename)
    introspect = set()
    for index, reference in enumerate(
        r.strings(entry.get("may_introspect", []), f"{where}.may_introspect", label)
    ):
        identifier = r.api(reference, f"{where}.may_introspect[{index}]", label)
        if identifier is not None:
            introspect.add(identifier)
    if introspect and profile.is_public:
        r.error(
            f"{where}.may_introspect",
            f"{label}: a public application cannot authenticate to introspect tokens.",
        )
    return ClientSpec(app_type, values, lists, frozenset(introspect))


def _urls(r: Reader, value: Any, where: str, label: str, app_type: str) -> frozenset[str]:
    """The valid URLs of a list; each invalid one is a problem at its index."""
    key = where.rpartition(".")[2]
    urls = set()
    for index, url in enumerate(r.strings(value, where, label)):
        try:
            if not url or url.split() != [url]:
                raise ValidationError(f"“{url}” is not a {URL_WORDS[key]}: one URL, no spaces.")
            if key == "allowed_origins":
                validate_origin(url, allow_http_localhost=settings.DEBUG)
            else:
                validate_callback(url, app_type=app_type, allow_http_localhost=settings.DEBUG)
        except ValidationError as error:
            for message in error.messages:
                r.error(f"{where}[{index}]", f"{label}: {message}")
        else:
            urls.add(url)
    return frozenset(urls)


def read_grants(r: Reader) -> None:
    """Which machine-to-machine application may call which API, with which scopes."""
    for where, entry in r.objects("client_grants"):
        r.keys(entry, ("client_id", "api", "scopes"), where)
        client_id, api = entry.get("client_id"), entry.get("api")
        if not isinstance(client_id, str) or not isinstance(api, str):
            r.error(where, f"{where}: “client_id” and “api” must be strings.")
            continue
        label = f"Grant of {client_id} on {api}"
        spec = r.state.applications.get(client_id)
        if spec is None:
            r.error(f"{where}.client_id", f"{label}: there is no application “{client_id}” in the file.")
        elif spec.app_type != AppType.M2M:
            r.error(f"{where}.client_id", f"{label}: only machine-to-machine applications are granted APIs.")
        identifier = r.api(api, f"{where}.api", label)
        scopes = set()
        for index, value in enumerate(r.strings(entry.get("scopes", []), f"{where}.scopes", label)):
            if identifier is not None and r.scope(api, value, f"{where}.scopes[{index}]", label):
                scopes.add(value)
        if spec is None or identifier is None:
            continue
        if (client_id, identifier) in r.state.grants:
            r.error(where, f"{label} appears more than once.")
            continue
        r.state.grants[(client_id, identifier)] = frozenset(scopes)
        r.state.paths[("grant", f"{client_id} {identifier}")] = where
