"""/oauth/par: the pushed authorization request endpoint (RFC 9126 §2)."""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, JsonResponse
from django.views import View

from .client_endpoint import ClientEndpointMixin, token_error
from .par import (
    PUSHED_REQUEST_SECONDS,
    REQUEST_URI_PREFIX,
    PushedRequestError,
    pushed_parameters,
    pushed_request_create,
    pushing_client,
)


class PushedAuthorizationRequestView(ClientEndpointMixin, View):
    """Authenticate the client as the token endpoint does, check its authorization request
    as /authorize would, keep it, and answer 201 with its request_uri (POST only: 405
    otherwise). Errors are the token endpoint's JSON errors."""

    accepts_json = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            client = pushing_client(request)
            params = pushed_parameters(client, request.POST)
        except PushedRequestError as error:
            return token_error(error.error, str(error), status=error.status)
        pushed = pushed_request_create(client=client, params=params)
        response = JsonResponse(
            {"request_uri": REQUEST_URI_PREFIX + pushed.request_id, "expires_in": PUSHED_REQUEST_SECONDS},
            status=HTTPStatus.CREATED,
        )
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
