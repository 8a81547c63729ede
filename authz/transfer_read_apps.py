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
        identifier = _text(entry.get("identifier"))
        label = f"API {identifier}" if identifier else where
        r.keys(entry, ("identifier", *API_FIELDS, "scopes"), where, label)
        if not identifier:
            r.error(f"{where}.identifier", f"{where}: “identifier” must be a non-empty string.")
            continue
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
        client_id, app_type = _text(entry.get("client_id")), entry.get("app_type")
        label = f"Application {client_id}" if client_id else where
        r.keys(entry, allowed, where, label)
        if not client_id:
            r.error(f"{where}.client_id", f"{where}: “client_id” must be a non-empty string.")
            continue
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
    if values.get("name") == "":
        # The model allows a nameless application (DOT's), the dashboard does not.
        r.error(f"{where}.name", f"{label}: “name” must be a non-empty string.")
    lists = _lists(r, entry, where, label, app_type)
    if not profile.has_callbacks and values.get("backchannel_logout_uri"):
        r.error(f"{where}.backchannel_logout_uri", f"{label}: a {app_type} application has no sign-out.")
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
    # A list with a bad URL has had it reported at its index: the model's word on the list
    # (which no longer holds it) would only repeat it.
    reported = {
        CLIENT_LISTS[key]
        for key in CLIENT_LISTS
        if any(p.path.startswith(f"{where}.{key}[") for p in r.problems)
    }
    r.full_clean(client, where, label, exclude=["client_secret", "user", *bad], rename=rename, skip=reported)
    introspect = _introspection(r, entry, where, label)
    if introspect and profile.is_public:
        r.error(
            f"{where}.may_introspect",
            f"{label}: a public application cannot authenticate to introspect tokens.",
        )
    return ClientSpec(app_type, values, lists, introspect)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _lists(r: Reader, entry: dict, where: str, label: str, app_type: str) -> dict[str, frozenset[str]]:
    """The application's URL lists; one that the dashboard does not offer for its type (a
    machine's callbacks, a web app's origins) is refused here too."""
    profile = PROFILES[app_type]
    offered = {
        "callbacks": profile.has_callbacks,
        "logout_urls": profile.has_callbacks,
        "allowed_origins": app_type == AppType.SPA,
    }
    lists = {}
    for key, allowed in offered.items():
        if allowed or entry.get(key, []) == []:
            lists[key] = _urls(r, entry.get(key, []), f"{where}.{key}", label, app_type)
        else:
            r.error(f"{where}.{key}", f"{label}: a {app_type} application has no {URL_WORDS[key]}s.")
            lists[key] = frozenset()
    return lists


def _introspection(r: Reader, entry: dict, where: str, label: str) -> frozenset[str]:
    """The APIs whose tokens the application may introspect, by identifier."""
    apis = set()
    references = r.strings(entry.get("may_introspect", []), f"{where}.may_introspect", label)
    for index, reference in enumerate(references):
        identifier = r.api(reference, f"{where}.may_introspect[{index}]", label)
        if identifier is not None:
            apis.add(identifier)
    return frozenset(apis)


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
