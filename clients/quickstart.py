"""The values of an application's Quickstart tab: its real client id, callback, audience and
scopes, written as literals of each snippet's language (Python, shell, Kotlin, Swift,
JavaScript), so that a snippet copied from the page runs as it is.

Every literal is escaped for its language here, not in the template: a callback or an
identifier may hold a quote, a backslash, a ``$`` (a Kotlin template) or a character
outside ASCII (``\\uXXXX`` is JSON's and Kotlin's escape, ``\\u{X}`` Swift's).
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.urls import reverse

from apis import selectors as api_selectors
from apis.models import Api
from apis.system import MANAGEMENT_API_PATH

from . import selectors
from .jwks import CLIENT_ASSERTION_TYPE
from .models import Client
from .quickstart_pkjwt import private_key_jwt_python

# What a user-facing app asks for besides its API's scopes: an ID token, a profile, and a
# refresh token (issued only when the API allows offline access).
USER_SCOPES = ("openid", "profile", "offline_access")

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _c_like(value: str, *, unicode_escape: str, extra: dict[str, str] | None = None) -> str:
    """A double-quoted literal: the usual backslash escapes, control characters as
    ``unicode_escape`` (a format taking the code point)."""
    escapes = _SIMPLE_ESCAPES | (extra or {})
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) in (0x7F, 0x2028, 0x2029):
            out.append(unicode_escape.format(ord(char)))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def kotlin_string(value: str) -> str:
    # "$name" and "${...}" are templates in Kotlin: a literal dollar is "\$".
    return _c_like(value, unicode_escape="\\u{:04x}", extra={"$": "\\$"})


def swift_string(value: str) -> str:
    # Swift has no \uXXXX: its Unicode escape is \u{X}; "\(" would interpolate, "\\(" does not.
    return _c_like(value, unicode_escape="\\u{{{:x}}}")


def js_string(value: str) -> str:
    # JSON strings are JavaScript string literals (U+2028/2029 too, since ES2019).
    return json.dumps(value)


def endpoint(name: str) -> str:
    return settings.OIDC_ISSUER.rstrip("/") + reverse(name)


def _query(params: dict[str, str]) -> str:
    # Spaces as %20 (not +); ":" and "/" may stay as they are in a query (RFC 3986 §3.4).
    return urlencode(params, quote_via=quote, safe=":/")


def quickstart(client: Client, api_pk: str) -> dict[str, object]:
    """This client's real values for the Quickstart tab, quoted for each snippet's language.

    The admin picks the API (the audience) with ``?api=``: any API for a user-facing app, one
    of its granted APIs for a machine.
    """
    if client.app_type == Client.AppType.M2M:
        granted = selectors.client_grants(client=client)
        apis = [api for api in api_selectors.api_list() if api.pk in granted]
    else:
        apis = list(api_selectors.api_list_for_people().prefetch_related("scopes"))
    api = next((api for api in apis if str(api.pk) == api_pk), apis[0] if apis else None)
    values: dict[str, object] = {
        "apis": apis,
        "api": api,
        "issuer": settings.OIDC_ISSUER,
        "token_endpoint": endpoint("oauth2_provider:token"),
        "client_id": client.client_id,
    }
    if client.app_type == Client.AppType.M2M:
        if api is not None:
            values["curl"] = _curl_client_credentials(client, api, sorted(granted[api.pk]))
            if client.token_endpoint_auth_method == Client.AuthMethod.PRIVATE_KEY_JWT:
                values["py_assertion"] = private_key_jwt_python(
                    client=client,
                    api=api,
                    token_endpoint=endpoint("oauth2_provider:token"),
                    scopes=sorted(granted[api.pk]),
                )
            if api.system:
                values["api_call"] = _curl_management_call()
        return values
    return values | _user_app_values(client, api)


def _user_app_values(client: Client, api: Api | None) -> dict[str, object]:
    """The authorization code flow with PKCE, by hand and with each platform's SDK."""
    callbacks = client.redirect_uris.split()
    redirect_uri = callbacks[0] if callbacks else ""
    scopes = [*USER_SCOPES, *(sorted(scope.value for scope in api.scopes.all()) if api else ())]
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
    }
    if api is not None:
        params["audience"] = api.identifier
    authorize_endpoint = endpoint("oauth2_provider:authorize")
    sdk = {"issuer": settings.OIDC_ISSUER, "client_id": client.client_id, "redirect_uri": redirect_uri}
    sdk |= {"scope": " ".join(scopes), "audience": api.identifier if api else ""}
    return {
        "authorize_endpoint": authorize_endpoint,
        "redirect_uri": redirect_uri,
        # The scheme Android's manifest placeholder and iOS's URL type register.
        "redirect_scheme": urlsplit(redirect_uri).scheme,
        "authorize_url": (
            f"{authorize_endpoint}?{_query(params)}"
            "&code_challenge=CODE_CHALLENGE&code_challenge_method=S256&state=STATE"
        ),
        "curl": _curl_code_exchange(client, redirect_uri),
        # JSON strings are valid Python string literals, whatever characters they hold.
        "py": {name: json.dumps(value) for name, value in params.items()}
        | {"authorize_endpoint": json.dumps(authorize_endpoint)},
        "kotlin": {name: kotlin_string(value) for name, value in sdk.items()},
        "swift": {name: swift_string(value) for name, value in sdk.items()}
        | {"scopes": "[" + ", ".join(swift_string(scope) for scope in scopes) + "]"},
        "js": {name: js_string(value) for name, value in sdk.items()},
    }


def _client_auth(client: Client) -> list[str]:
    """curl options that authenticate ``client`` the way it registered (secret as a variable)."""
    if client.token_endpoint_auth_method == Client.AuthMethod.PRIVATE_KEY_JWT:
        return [
            "--data " + shlex.quote(f"client_assertion_type={CLIENT_ASSERTION_TYPE}"),
            '--data-urlencode "client_assertion=$CLIENT_ASSERTION"',
        ]
    if client.token_endpoint_auth_method == Client.AuthMethod.BASIC:
        return ["--user " + shlex.quote(f"{client.client_id}:") + '"$CLIENT_SECRET"']
    options = ["--data " + shlex.quote(f"client_id={client.client_id}")]
    if client.token_endpoint_auth_method == Client.AuthMethod.POST:
        options.append('--data-urlencode "client_secret=$CLIENT_SECRET"')
    return options


def _curl(options: list[str]) -> str:
    return " \\\n  ".join(["curl --request POST " + shlex.quote(endpoint("oauth2_provider:token")), *options])


def _curl_code_exchange(client: Client, redirect_uri: str) -> str:
    return _curl(
        [
            *_client_auth(client),
            "--data grant_type=authorization_code",
            '--data-urlencode "code=$CODE"',
            '--data-urlencode "code_verifier=$CODE_VERIFIER"',
            "--data-urlencode " + shlex.quote(f"redirect_uri={redirect_uri}"),
        ]
    )


def _curl_client_credentials(client: Client, api: Api, scopes: list[str]) -> str:
    options = [
        *_client_auth(client),
        "--data grant_type=client_credentials",
        "--data-urlencode " + shlex.quote(f"audience={api.identifier}"),
    ]
    if scopes:
        options.append("--data-urlencode " + shlex.quote(f"scope={' '.join(scopes)}"))
    return _curl(options)


def _curl_management_call() -> str:
    """The first call a provisioning script makes: the people, a page at a time."""
    url = settings.OIDC_ISSUER.rstrip("/") + MANAGEMENT_API_PATH + "users?page_size=10"
    return f'curl {shlex.quote(url)} \\\n  --header "Authorization: Bearer $ACCESS_TOKEN"'
