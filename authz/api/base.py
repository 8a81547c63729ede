"""The Management API's base view and the conventions every resource shares."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from apis.authentication import BearerTokenAuthentication, TokenPrincipal, token_principal
from apis.parsers import JSONParser
from apis.permissions import HasRequiredScopes
from apis.rest.concurrency import check_if_match, etag_of
from apis.rest.idempotency import HEADER as IDEMPOTENCY_HEADER
from apis.rest.idempotency import idempotent_create
from apis.rest.pagination import CursorPage
from apis.rest.problems import PROBLEM_JSON, ProblemSerializer, problem_exception_handler
from apis.rest.ratelimit import Budget, RateLimited, budget_take
from apis.system import management_audience


class MachineClientsOnly(HasRequiredScopes):
    """The scope check, for client-credentials tokens only: the Management API acts for the
    organization, and people manage it through the dashboard."""

    def has_permission(self, request: Request, view) -> bool:
        if not token_principal(request).is_machine:
            raise exceptions.PermissionDenied(
                "The Management API takes client-credentials tokens of machine-to-machine applications."
            )
        return super().has_permission(request, view)


class ManagementApi(APIView):
    """A Management API operation: JSON in and out, machine bearer tokens with the scope the
    view names per HTTP method, problem details on error, a rate limit per client."""

    machine_only = True
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [MachineClientsOnly]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    required_scopes: dict[str, str | tuple[str, ...]] = {}
    budget: Budget | None = None
    _acting: Any = None

    @property
    def audience(self) -> str:
        return management_audience()

    @property
    def principal(self) -> TokenPrincipal:
        return token_principal(self.request)

    def get_exception_handler(self):
        return problem_exception_handler

    def check_throttles(self, request: Request) -> None:
        try:
            self.budget = budget_take(self.principal.client_id)
        except RateLimited as limited:
            self.budget = limited.budget
            raise
        # From here on, the audit log names this client as the actor of what it changes.
        self._acting = audit.client_acting_begin(self.principal.client_id)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        if self._acting is not None:
            audit.client_acting_end(self._acting)
            self._acting = None
        if self.budget is not None:
            for name, value in self.budget.headers().items():
                response[name] = value
        return super().finalize_response(request, response, *args, **kwargs)

    # --- helpers for the resources ------------------------------------------------------

    def page(
        self, queryset: models.QuerySet, serializer_class, *, ordering: tuple[str, ...] = ("id",)
    ) -> Response:
        paginator = CursorPage()
        paginator.ordering = ordering
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(rows, many=True).data)

    def created(self, create, *, redact: tuple[str, ...] = ()) -> Response:
        """Run a create under the request's Idempotency-Key (if any)."""
        return idempotent_create(
            self.request, client_id=self.principal.client_id, create=create, redact=redact
        )

    def with_etag(self, data: Any, *, status_code: int = 200) -> Response:
        return Response(data, status=status_code, headers={"ETag": etag_of(data)})

    def locked(self, queryset: models.QuerySet, represent, **lookup) -> models.Model:
        """The object, locked for this transaction, after checking the request's If-Match
        against its current representation. Call inside ``transaction.atomic()``."""
        instance = get_object_or_404(queryset.select_for_update(), **lookup)
        check_if_match(self.request, etag_of(represent(instance)))
        return instance

    def guarded_write(self, queryset: models.QuerySet, represent, write, **lookup) -> Response:
        """Lock, check If-Match, ``write(instance)``, and answer the new representation."""
        with transaction.atomic():
            instance = self.locked(queryset, represent, **lookup)
            result = write(instance)
        return self.with_etag(represent(result if result is not None else instance))


class NotFoundApi(APIView):
    """Any path under /api/v2/ that names no operation: a problem+json 404, whoever asks."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return problem_exception_handler

    def initial(self, request: Request, *args, **kwargs) -> None:
        raise exceptions.NotFound("There is no such operation in the Management API.")


# --- OpenAPI: the statuses every operation may answer, with problem bodies ---------------

_PROBLEM_DESCRIPTIONS = {
    400: "The request is not valid: `errors` lists each field's problem.",
    401: "No access token, or one that is invalid or expired (see WWW-Authenticate).",
    403: "The token is not a machine client's, or lacks the scope this operation needs.",
    404: "No such object (or, for a list, no such cursor).",
    409: "The write would break an invariant (a cycle, a duplicate, a protected object).",
    412: "If-Match names an ETag that is no longer current.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "This client's rate limit is spent (see Retry-After and RateLimit).",
}
COMMON = (400, 401, 403, 429)


def problems(*statuses: int) -> dict:
    """drf-spectacular responses for these error statuses (and the common ones), as problems."""
    return {
        (code, PROBLEM_JSON): OpenApiResponse(ProblemSerializer, description=_PROBLEM_DESCRIPTIONS[code])
        for code in sorted({*COMMON, *statuses})
    }


_pages: dict[type, type] = {}


def page_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of a cursor page of ``item``s, as ``ManagementApi.page`` answers it."""
    if item not in _pages:
        noun = item.__name__.removesuffix("Serializer")
        _pages[item] = type(
            f"{noun}PageSerializer",
            (serializers.Serializer,),
            {
                "__module__": item.__module__,
                "__doc__": f"A page of {noun} objects; follow `next` for more.",
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": item(many=True),
            },
        )
    return _pages[item]


def responses(ok: dict, *statuses: int) -> dict:
    """An operation's answers: ``ok`` and the problems it may answer. A list (a cursor page)
    may answer 404, for a cursor it did not give out (DRF's choice, kept)."""
    if any(answer in _pages.values() for answer in ok.values()):
        statuses = (*statuses, 404)
    return {**ok, **problems(*statuses)}


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag you read: the write is refused with 412 if the object changed since.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 255 printable ASCII characters. The same key and body within a day return the first "
    "answer (secrets shown once are null in a replay); the same key with another body is 422.",
)
CURSOR_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` link's cursor."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="50 by default."
    ),
]
