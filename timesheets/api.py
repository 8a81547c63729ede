"""The Timesheets API (DRF): scope-checked views over the timesheet services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from apis.authentication import BearerTokenAuthentication
from apis.permissions import HasRequiredScopes
from clients.models import Client

from . import selectors, services
from .models import MAX_BULK_ROWS, BulkJob, Entry
from .parsers import CsvParser
from .scopes import APPROVE, CREATE, DELETE, READ
from .serializers import (
    BulkJobSerializer,
    BulkRowSerializer,
    BulkUploadSerializer,
    EntryFilterSerializer,
    EntrySerializer,
    EntryWriteSerializer,
    RejectSerializer,
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


class TimesheetsApi(APIView):
    audience = settings.TIMESHEETS_API_AUDIENCE
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasRequiredScopes]
    required_scopes: dict[str, str] = {}

    def person(self) -> User:
        """The person the token speaks for; machine tokens only reach the bulk endpoints."""
        principal = self.request.user
        if principal.is_machine:
            raise exceptions.PermissionDenied(
                "This operation is for people; batch clients use /api/timesheets/bulk."
            )
        user = User.objects.filter(sub=principal.sub, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("The token's subject is not an active user.")
        return user

    def is_approver(self) -> bool:
        return APPROVE in self.request.user.scopes

    def handle_exception(self, exc: Exception) -> Response:
        # Service errors speak Django; answer them in the API's terms.
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc))
        elif isinstance(exc, services.InvalidTransition):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)

    def visible_entry(self, pk: int) -> Entry:
        """An entry the caller may see, or 404 (never revealing that it exists)."""
        entry = selectors.entry_visible(user=self.person(), pk=pk, as_approver=self.is_approver())
        if entry is None:
            raise exceptions.NotFound("No such entry.")
        return entry

    def own_entry(self, pk: int) -> Entry:
        entry = selectors.entry_list(user=self.person()).filter(pk=pk).first()
        if entry is None:
            raise exceptions.NotFound("No such entry.")
        return entry


class TimesheetListApi(TimesheetsApi):
    required_scopes = {"GET": READ, "POST": CREATE}

    @extend_schema(parameters=[EntryFilterSerializer], responses=EntrySerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = EntryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params: dict[str, Any] = dict(filters.validated_data)
        worker_email, team = params.pop("worker", None), params.pop("team")
        if (worker_email or team) and not self.is_approver():
            raise exceptions.PermissionDenied(f"Filtering by worker needs the {APPROVE} scope.")
        worker = User.objects.filter(email__iexact=worker_email).first() if worker_email else None
        if worker_email and worker is None:
            entries = Entry.objects.none()
        else:
            entries = selectors.entry_list(
                user=self.person(), as_approver=bool(worker_email or team), worker=worker, **params
            )
        paginator = EntryPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(EntrySerializer(page, many=True).data)

    @extend_schema(request=EntryWriteSerializer, responses={201: EntrySerializer})
    def post(self, request: Request) -> Response:
        data = EntryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = Entry.Source.MOBILE if _client_is_native(request) else Entry.Source.WEB
        entry = services.entry_create(worker=self.person(), source=source, **data.validated_data)
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TimesheetDetailApi(TimesheetsApi):
    required_scopes = {"GET": READ, "PATCH": CREATE, "DELETE": DELETE}

    @extend_schema(responses=EntrySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EntrySerializer(self.visible_entry(pk)).data)

    @extend_schema(request=EntryWriteSerializer(partial=True), responses=EntrySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        entry = self.own_entry(pk)
        data = EntryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        entry = services.entry_update(entry=entry, **data.validated_data)
        return Response(EntrySerializer(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.entry_delete(entry=self.own_entry(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimesheetSubmitApi(TimesheetsApi):
    required_scopes = {"POST": CREATE}

    @extend_schema(request=None, responses=EntrySerializer)
    def post(self, request: Request, pk: int) -> Response:
        return Response(EntrySerializer(services.entry_submit(entry=self.own_entry(pk))).data)


class TimesheetApproveApi(TimesheetsApi):
    required_scopes = {"POST": APPROVE}

    @extend_schema(request=None, responses=EntrySerializer)
    def post(self, request: Request, pk: int) -> Response:
        entry = services.entry_decide(entry=self.visible_entry(pk), approver=self.person(), approve=True)
        return Response(EntrySerializer(entry).data)


class TimesheetRejectApi(TimesheetsApi):
    required_scopes = {"POST": APPROVE}

    @extend_schema(request=RejectSerializer, responses=EntrySerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.entry_decide(
            entry=self.visible_entry(pk),
            approver=self.person(),
            approve=False,
            reason=data.validated_data["reason"],
        )
        return Response(EntrySerializer(entry).data)


class BulkUploadApi(TimesheetsApi):
    """Batch clients upload up to 10,000 entries at once (JSON or CSV), naming workers by email."""

    required_scopes = {"POST": CREATE}
    parser_classes = [JSONParser, CsvParser]

    def client(self) -> Client:
        if not self.request.user.is_machine:
            raise exceptions.PermissionDenied("Bulk upload is for batch (machine-to-machine) clients.")
        return get_object_or_404(Client, client_id=self.request.user.client_id)

    @extend_schema(
        request=BulkUploadSerializer,
        responses={
            202: BulkJobSerializer,
            400: OpenApiResponse(description="Per-row errors; nothing is imported."),
        },
    )
    def post(self, request: Request) -> Response:
        client = self.client()
        rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list) or not rows or len(rows) > MAX_BULK_ROWS:
            message = f"Send a list of 1 to {MAX_BULK_ROWS} rows (JSON array, {{'rows': [...]}} or CSV)."
            return Response({"rows": [message]}, status=status.HTTP_400_BAD_REQUEST)
        clean, errors = _validate_rows(rows)
        if errors:
            return Response({"rows": errors}, status=status.HTTP_400_BAD_REQUEST)
        job = services.bulk_job_create(client=client, rows=clean)
        job.refresh_from_db()
        response = Response(BulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("timesheets-api:bulk-job", args=[job.pk])
        return response


class BulkJobApi(TimesheetsApi):
    required_scopes = {"GET": CREATE}

    @extend_schema(responses=BulkJobSerializer)
    def get(self, request: Request, pk: int) -> Response:
        if not request.user.is_machine:
            raise exceptions.NotFound("No such job.")
        job = BulkJob.objects.filter(pk=pk, client__client_id=request.user.client_id).first()
        if job is None:
            raise exceptions.NotFound("No such job.")
        return Response(BulkJobSerializer(job).data)


def _client_is_native(request: Request) -> bool:
    return Client.objects.filter(client_id=request.user.client_id, app_type=Client.AppType.NATIVE).exists()


def _validate_rows(rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check the whole upload before accepting any of it: each row's fields, that workers
    exist, that hours are quarter hours, that no external id repeats within the file."""
    parsed: dict[int, dict[str, Any]] = {}
    problems: dict[int, dict[str, list[str]]] = {}
    for index, row in enumerate(rows, start=1):
        serializer = BulkRowSerializer(data=row if isinstance(row, dict) else {})
        if serializer.is_valid():
            parsed[index] = serializer.validated_data
        else:
            problems[index] = {field: [str(e) for e in errs] for field, errs in serializer.errors.items()}

    emails = {row["worker"].lower() for row in parsed.values()}
    known = set(User.objects.filter(email__in=emails, is_active=True).values_list("email", flat=True))
    first_seen: dict[str, int] = {}
    clean = []
    for index, row in parsed.items():
        found: dict[str, list[str]] = {}
        if row["worker"].lower() not in known:
            found["worker"] = [f"No active user {row['worker']}."]
        try:
            services.hours_to_minutes(row["hours"])
        except DjangoValidationError as error:
            found.update(error.message_dict)
        external_id = row.get("external_id") or ""
        if external_id:
            if external_id in first_seen:
                found["external_id"] = [f"Repeats row {first_seen[external_id]}."]
            first_seen.setdefault(external_id, index)
        if found:
            problems[index] = found
        clean.append(
            {
                "worker": row["worker"].lower(),
                "date": row["date"].isoformat(),
                "project": row["project"],
                "hours": str(row["hours"]),
                "notes": row.get("notes", ""),
                "external_id": external_id or None,
            }
        )
    errors = [{"row": index, "errors": problems[index]} for index in sorted(problems)]
    return clean, errors
