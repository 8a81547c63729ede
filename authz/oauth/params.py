"""Protocol request parameters before any lookup: limits, JSON bodies, Auth0's ``audience``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, QueryDict, RawPostDataException

from accounts.json_input import JsonInputError, json_parse

from .client_auth import uses_basic

# Longer than any honest parameter (a 2,000-character state included), far shorter than
# what would make the server work hard for an attacker.
MAX_PARAMETER_LENGTH = 4096
# Parameters a client may repeat (RFC 8707 resource indicators, our alias of them).
REPEATABLE = frozenset({"resource", "audience"})


def audience_as_resource(params: QueryDict) -> QueryDict:
    """Auth0's ``audience`` is an RFC 8707 ``resource`` indicator by another name."""
    if "audience" not in params or "resource" in params:
        return params
    params = params.copy()
    params.setlist("resource", params.pop("audience"))
    return params


def acr_values_as_claims(params: QueryDict) -> QueryDict:
    """``acr_values`` asks for the ``acr`` claim as a voluntary claim with those values, in
    order of preference (OIDC Core §3.1.2.1): folded into the ``claims`` request (§5.5.1.1),
    which django-oauth-toolkit carries through the consent screen into the code, so that one
    request answers both. An ``acr`` the claims request names with values of its own wins;
    a malformed ``claims`` is left for oauthlib to refuse."""
    values = params.get("acr_values", "").split()
    try:
        claims = json.loads(params.get("claims") or "{}")
    except ValueError:
        return params
    id_token = claims.get("id_token") or {} if isinstance(claims, dict) else None
    if not values or not isinstance(id_token, dict) or isinstance(id_token.get("acr"), dict):
        return params
    claims["id_token"] = {**id_token, "acr": {"values": values}}
    params = params.copy()
    params["claims"] = json.dumps(claims)
    return params


def authorization_params(params: QueryDict) -> QueryDict:
    """The /authorize parameters as django-oauth-toolkit should see them: ``audience`` as
    ``resource``, ``acr_values`` in the claims request, and without DOT's own
    ``approval_prompt``. Whether to ask for consent is ours to decide (remembered consents,
    first-party applications, ``prompt=consent``); a client must not skip the question by
    sending ``approval_prompt=auto``."""
    params = acr_values_as_claims(audience_as_resource(params))
    if "approval_prompt" not in params:
        return params
    params = params.copy()
    params.pop("approval_prompt")
    return params


def oversized_parameter(params: QueryDict) -> str | None:
    """The name of the first parameter whose value is too long, if any."""
    return next((name for name, value in params.items() if len(value) > MAX_PARAMETER_LENGTH), None)


def client_request_problem(request: HttpRequest) -> str | None:
    """What makes a back-channel request unacceptable before any client is looked up."""
    for params in (request.GET, request.POST):
        for name, values in params.lists():
            if len(values) > 1 and name not in REPEATABLE:
                return f"The parameter {name!r} was sent more than once."
            if any(len(value) > MAX_PARAMETER_LENGTH for value in values) or len(name) > MAX_PARAMETER_LENGTH:
                return f"The parameter {name[:40]!r} is too long."
    if uses_basic(request.headers.get("Authorization", "")) and request.POST.get("client_secret"):
        return "Authenticate the client one way only: HTTP Basic or client_secret in the body."
    return None


def body_too_large(request: HttpRequest) -> str | None:
    """Why the request's body is refused, if it is: larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (the protocol endpoints answer that 413 ``invalid_request`` in JSON, not Django's HTML 400).

    Django checks the size when ``request.POST`` or ``request.body`` is first read; reading
    the body here, within that limit, bounds form, multipart and JSON bodies alike.
    """
    try:
        request.body  # noqa: B018  # read for Django's size check
    except RequestDataTooBig:
        return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
    except RawPostDataException:
        return None  # already read as a form, so within the limit
    return None


def form_from_json(body: bytes) -> QueryDict:
    """A JSON token request as the form it stands for: an object of strings."""
    try:
        data = json_parse(body or b"{}", object_pairs_hook=_no_repeated_keys)
    except JsonInputError as error:
        raise ValueError(f"The request body is not valid JSON: {error}.") from error
    if not isinstance(data, dict):
        raise ValueError("The request body must be a JSON object.")
    form = QueryDict(mutable=True)
    for name, value in data.items():
        values = value if isinstance(value, list) and name in REPEATABLE else [value]
        for item in values:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise ValueError(f"The parameter {name!r} must be a string.")
            form.appendlist(name, str(item))
    return form


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # As many members as a form may have fields (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS).
    if len(pairs) > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
        raise ValueError(f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters.")
    data = dict(pairs)
    if len(data) < len(pairs):
        counts = Counter(name for name, _ in pairs)
        repeated = sorted(name for name, count in counts.items() if count > 1)
        raise ValueError(f"The parameter {repeated[0]!r} was sent more than once.")
    return data
