"""The Timesheets API (DRF): scope-checked views over the timesheet services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import Conflict as StateConflict
from accounts.models import User
from apis.authentication import BearerTokenAuthentication, token_principal
from apis.permissions import HasRequiredScopes
from clients.models import Client

from . import bulk_upload, decisions, selectors, services
from .models import MAX_BULK_ROWS, Entry
from .parsers import BulkJSONParser, CsvParser
from .schema import (
    CSV_UPLOAD,
    ENTRY_ID,
    JOB_ID,
    JOB_LOCATION,
    WWW_AUTHENTICATE,
    BodyRequiredSchema,
    BulkUploadErrorSerializer,
    responses,
)
from .scopes import APPROVE, CREATE, DELETE, READ
from .serializers import (
    BulkJobSerializer,
    BulkUploadSerializer,
    EntryFilterSerializer,
    EntryPageSerializer,
    EntrySerializer,
    EntryWriteSerializer,
    RejectSerializer,
    bulk_rows_parse,
    entry_row_columns,
    entry_rows_data,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_status"


class EntryPagination(CursorPagination):
    """Keyset pagination on (date, id): stable under inserts and fast at any depth."""

    ordering = ("-date", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def entry_page(request: Request, view: APIView, entries: QuerySet[Entry]) -> Response:
    """One page of ``entries`` as the list answers it, read as plain rows: the same JSON, byte
    for byte, as EntrySerializer over the page's model instances, in a fraction of the time."""
    paginator = EntryPagination()
    rows = paginator.paginate_queryset(entries.values(*entry_row_columns()), request, view=view)
    return paginator.get_paginated_response(entry_rows_data(rows or []))


def list_filters(request: Request) -> tuple[dict[str, Any], str | None, bool]:
    """The list's query parameters, validated: the selector's filters, ``worker`` and ``team``."""
    filters = EntryFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    params: dict[str, Any] = dict(filters.validated_data)
    return params, params.pop("worker", None), params.pop("team")


class TimesheetsApi(APIView):
    audience = settings.TIMESHEETS_API_AUDIENCE
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasRequiredScopes]
    required_scopes: dict[str, str] = {}

    def person(self) -> User:
        """The person the token speaks for; machine tokens only read and upload in bulk."""
        principal = token_principal(self.request)
        if principal.is_machine:
            raise exceptions.PermissionDenied(
                "This operation is for people; batch clients read entries and upload to /api/timesheets/bulk."
            )
        user = selectors.person_by_sub(principal.sub)
        if user is None:
            raise exceptions.AuthenticationFailed("The token's subject is not an active user.")
        return user

    def is_approver(self) -> bool:
        return APPROVE in token_principal(self.request).scopes

    def handle_exception(self, exc: Exception) -> Response:
        # Service errors speak Django; answer them in the API's terms.
        if isinstance(exc, StateConflict):
            exc = Conflict(" ".join(exc.messages))
        elif isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc))
        elif isinstance(exc, services.InvalidTransition):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)

    def visible_entry(self, pk: int) -> Entry:
        """An entry the caller may see, or 404 (never revealing that it exists)."""
        if token_principal(self.request).is_machine:
            entry = selectors.entry_list_for_client().filter(pk=pk).first()
        else:
            entry = selectors.entry_visible(user=self.person(), pk=pk, as_approver=self.is_approver())
        if entry is None:
            raise exceptions.NotFound("No such entry.")
        return entry

    def own_entry(self, pk: int) -> Entry:
        entry = selectors.entry_list(user=self.person()).filter(pk=pk).first()
        if entry is None:
            raise exceptions.NotFound("No such entry.")
        return entry


LIST_DESCRIPTION = f"""Timesheet entries, newest first, a page at a time (cursor pagination).

- **A person's token** lists their own entries. With `{APPROVE}`, `team=true` lists the
  entries of their reports (everyone's for staff) and `worker=<email>` one of them.
- **A machine client's token** (client_credentials: `gty=client-credentials`,
  `sub=<client_id>@clients`) carrying `{READ}` (granted to the client) lists **every**
  entry, for payroll exports; `worker=<email>` narrows it to one person (`team` changes
  nothing). The same client reads any one entry at `/api/timesheets/{{id}}`, and never
  writes, submits or decides as a person.

An unknown `worker` lists nothing."""

WORKER_PARAMETER = OpenApiParameter(
    "worker",
    OpenApiTypes.EMAIL,
    description=f"One worker's entries, by email: approvers (`{APPROVE}`) and machine clients.",
)
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        str,
        description="Where the page starts: take it from `next` or `previous`, never build it "
        "(one that is not ours is 404).",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": EntryPagination.max_page_size},
        description=f"Entries a page (default {EntryPagination.page_size}); more than "
        f"{EntryPagination.max_page_size} are {EntryPagination.max_page_size}.",
    ),
]


class TimesheetListApi(TimesheetsApi):
    required_scopes = {"GET": READ, "POST": CREATE}

    @extend_schema(
        operation_id="timesheets_list",  # a page is one object: spectacular would say "retrieve"
        description=LIST_DESCRIPTION,
        parameters=[EntryFilterSerializer, WORKER_PARAMETER, *PAGE_PARAMETERS, WWW_AUTHENTICATE],
        responses=responses({200: EntryPageSerializer}, 400, 404),
    )
    def get(self, request: Request) -> Response:
        params, worker_email, team = list_filters(request)
        machine = token_principal(request).is_machine
        if (worker_email or team) and not machine and not self.is_approver():
            raise exceptions.PermissionDenied(f"Filtering by worker needs the {APPROVE} scope.")
        worker = selectors.person_by_email(worker_email) if worker_email else None
        if worker_email and worker is None:
            entries = Entry.objects.none()
        elif machine:
            entries = selectors.entry_list_for_client(worker=worker, **params)
        else:
            entries = selectors.entry_list(
                user=self.person(), as_approver=bool(worker_email or team), worker=worker, **params
            )
        return entry_page(request, self, entries)

    @extend_schema(
        description="Log time: a person's own entry, a draft. Hours go in quarter hours, and a "
        "day's entries add up to 24 hours at most (409 otherwise).",
        request=EntryWriteSerializer,
        responses=responses({201: EntrySerializer}, 400, 409, 413, 415),
        parameters=[WWW_AUTHENTICATE],
    )
    def post(self, request: Request) -> Response:
        data = EntryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        native = selectors.client_is_native(token_principal(request).client_id)
        source = Entry.Source.MOBILE if native else Entry.Source.WEB
        entry = services.entry_create(worker=self.person(), source=source, **data.validated_data)
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TimesheetDetailApi(TimesheetsApi):
    required_scopes = {"GET": READ, "PATCH": CREATE, "DELETE": DELETE}

    @extend_schema(
        description=(
            "One entry: a person's own, or a report's for approvers (anyone's for staff); any "
            "entry for a machine client with read:timesheets. Anything else is 404."
        ),
        responses=responses({200: EntrySerializer}, 404),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(EntrySerializer(self.visible_entry(pk)).data)

    @extend_schema(
        description="Edit one's own draft, or correct a rejected entry (a draft again); "
        "submitted and approved entries are 409.",
        request=EntryWriteSerializer(partial=True),
        responses=responses({200: EntrySerializer}, 400, 404, 409, 413, 415),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def patch(self, request: Request, pk: int) -> Response:
        entry = self.own_entry(pk)
        data = EntryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        entry = services.entry_update(entry=entry, **data.validated_data)
        return Response(EntrySerializer(entry).data)

    @extend_schema(
        description="Delete one's own draft or rejected entry; a submitted or approved one is 409.",
        responses=responses({204: None}, 404, 409),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.entry_delete(entry=self.own_entry(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimesheetSubmitApi(TimesheetsApi):
    required_scopes = {"POST": CREATE}

    @extend_schema(
        description="Submit one's own draft for approval; any other status is 409.",
        request=None,
        responses=responses({200: EntrySerializer}, 404, 409),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(EntrySerializer(services.entry_submit(entry=self.own_entry(pk))).data)


class TimesheetApproveApi(TimesheetsApi):
    required_scopes = {"POST": APPROVE}

    @extend_schema(
        description="Approve a report's submitted entry (anyone's for staff); one's own is 403, "
        "any status but submitted 409.",
        request=None,
        responses=responses({200: EntrySerializer}, 404, 409),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = decisions.entry_decide(entry=self.visible_entry(pk), approver=self.person(), approve=True)
        return Response(EntrySerializer(entry).data)


class TimesheetRejectApi(TimesheetsApi):
    required_scopes = {"POST": APPROVE}

    @extend_schema(
        description="Reject a report's submitted entry, saying why; the worker is emailed.",
        request=RejectSerializer,
        responses=responses({200: EntrySerializer}, 400, 404, 409, 413, 415),
        parameters=[ENTRY_ID, WWW_AUTHENTICATE],
    )
    def post(self, request: Request, pk: int) -> Response:
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = decisions.entry_decide(
            entry=self.visible_entry(pk),
            approver=self.person(),
            approve=False,
            reason=data.validated_data["reason"],
        )
        return Response(EntrySerializer(entry).data)


class BulkUploadApi(TimesheetsApi):
    """Batch clients upload up to 10,000 entries at once (JSON or CSV), naming workers by email."""

    required_scopes = {"POST": CREATE}
    parser_classes = [BulkJSONParser, CsvParser]
    schema = BodyRequiredSchema()

    def client(self) -> Client:
        principal = token_principal(self.request)
        if not principal.is_machine:
            raise exceptions.PermissionDenied("Bulk upload is for batch (machine-to-machine) clients.")
        client = selectors.client_by_client_id(principal.client_id)
        if client is None:  # deleted since the token was issued
            raise exceptions.NotFound()
        return client

    @extend_schema(
        description=f"Up to {MAX_BULK_ROWS:,} entries at once, for batch clients: JSON "
        '(`{"rows": [...]}` or the bare array) or CSV. The upload is checked as a whole before '
        "anything is imported: every worker must be an active person, hours quarter hours, and "
        "no `external_id` may repeat within it (one imported before is skipped). Then a job "
        "imports it (202, `Location`: the job).",
        request={"application/json": BulkUploadSerializer, "text/csv": CSV_UPLOAD},
        responses={
            **responses({202: BulkJobSerializer}, 404, 413, 415),
            400: OpenApiResponse(BulkUploadErrorSerializer, "Nothing is imported: what is wrong."),
        },
        parameters=[WWW_AUTHENTICATE, JOB_LOCATION],
    )
    def post(self, request: Request) -> Response:
        client = self.client()
        rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list) or not rows or len(rows) > MAX_BULK_ROWS:
            message = f"Send a list of 1 to {MAX_BULK_ROWS} rows (JSON array, {{'rows': [...]}} or CSV)."
            return Response({"rows": [message]}, status=status.HTTP_400_BAD_REQUEST)
        parsed, problems = bulk_rows_parse(rows)
        clean, broken = bulk_upload.bulk_rows_validate(rows=parsed)
        problems.update(broken)
        if problems:
            errors = [{"row": index, "errors": problems[index]} for index in sorted(problems)]
            return Response({"rows": errors}, status=status.HTTP_400_BAD_REQUEST)
        job = bulk_upload.bulk_job_create(client=client, rows=clean)
        job.refresh_from_db()
        response = Response(BulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("timesheets-api:bulk-job", args=[job.pk])
        return response


class BulkJobApi(TimesheetsApi):
    required_scopes = {"GET": CREATE}

    @extend_schema(
        description="A bulk upload's job, for the client that uploaded it (404 for anyone else).",
        responses=responses({200: BulkJobSerializer}, 404),
        parameters=[JOB_ID, WWW_AUTHENTICATE],
    )
    def get(self, request: Request, pk: int) -> Response:
        principal = token_principal(request)
        if not principal.is_machine:
            raise exceptions.NotFound("No such job.")
        job = selectors.bulk_job_of_client(pk=pk, client_id=principal.client_id)
        if job is None:
            raise exceptions.NotFound("No such job.")
        return Response(BulkJobSerializer(job).data)


class TimesheetsNotFoundApi(APIView):
    """Any other path under /api/timesheets/ (an ``{id}`` that is not a number, say): the
    API's JSON 404, not Django's HTML page, whatever the method and the token."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    schema = None  # not an operation

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise exceptions.NotFound()
