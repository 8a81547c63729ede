"""Bulk upload by batch clients, and the OpenAPI description of the API."""

from __future__ import annotations

import json
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from timesheets.models import MAX_BULK_ROWS, BulkJob, Entry

from .conftest import Api

pytestmark = pytest.mark.django_db
BULK = "/api/timesheets/bulk"


def _rows(worker, count: int = 3, start: int = 0) -> list[dict]:
    return [
        {
            "worker": worker.email,
            "date": f"2026-11-{16 + (i % 5):02d}",
            "project": "Payroll import",
            "hours": "1.5",
            "external_id": f"payroll-{start + i}",
        }
        for i in range(count)
    ]


def _upload(token: str, rows, *, capture):
    with capture(execute=True):
        return Api(token).http.post(BULK, json.dumps(rows), content_type="application/json")


def test_upload_is_accepted_then_imported_and_reported(
    batch_token, worker, django_capture_on_commit_callbacks
):
    response = _upload(batch_token, _rows(worker), capture=django_capture_on_commit_callbacks)
    assert response.status_code == HTTPStatus.ACCEPTED
    job_url = response["Location"]
    job = Api(batch_token).get(job_url).json()
    assert job["status"] == "done"
    assert (job["total"], job["created"], job["skipped"], job["errors"]) == (3, 3, 0, [])
    assert job["progress_percent"] == 100
    assert Entry.objects.filter(worker=worker, source=Entry.Source.BATCH).count() == 3


def test_sending_the_same_external_ids_again_creates_nothing_twice(
    batch_token, worker, django_capture_on_commit_callbacks
):
    _upload(batch_token, _rows(worker), capture=django_capture_on_commit_callbacks)
    again = _upload(batch_token, _rows(worker, count=4), capture=django_capture_on_commit_callbacks)
    job = BulkJob.objects.get(pk=again["Location"].rsplit("/", 1)[1])
    assert (job.created, job.skipped) == (1, 3)
    assert Entry.objects.count() == 4


def test_csv_uploads_work_too(batch_token, worker, django_capture_on_commit_callbacks):
    csv = "worker,date,project,hours,notes,external_id\n" + "\n".join(
        f"{worker.email},2026-11-1{i},Payroll,2,,csv-{i}" for i in range(6, 9)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(batch_token).http.post(BULK, csv, content_type="text/csv")
    assert response.status_code == HTTPStatus.ACCEPTED, response.content
    assert Entry.objects.filter(external_id__startswith="csv-").count() == 3


def test_the_upload_is_validated_as_a_whole(batch_token, worker):
    rows = _rows(worker)
    rows[1]["worker"] = "nobody@abcinc.example"
    rows[2]["hours"] = "0.1"
    rows.append({**rows[0]})  # repeats an external id
    response = Api(batch_token).http.post(BULK, json.dumps(rows), content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = {item["row"]: item["errors"] for item in response.json()["rows"]}
    assert set(errors) == {2, 3, 4}
    assert "worker" in errors[2] and "hours" in errors[3] and "external_id" in errors[4]
    assert not BulkJob.objects.exists() and not Entry.objects.exists()


def test_rows_that_break_a_rule_while_importing_are_reported(
    batch_token, worker, django_capture_on_commit_callbacks
):
    rows = _rows(worker, count=2)
    rows[0]["date"] = rows[1]["date"] = "2026-11-20"
    rows[0]["hours"] = "20"
    rows[1]["hours"] = "5"  # 25 hours on one day
    response = _upload(batch_token, rows, capture=django_capture_on_commit_callbacks)
    job = Api(batch_token).get(response["Location"]).json()
    assert job["created"] == 1
    assert job["errors"][0]["row"] == 2
    assert "24 hours" in job["errors"][0]["errors"][0]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"rows": []}', "application/json"),
        (b'{"rows": "x"}', "application/json"),
        (b"worker,date\n\xff\xfe", "text/csv"),
    ],
)
def test_malformed_uploads_are_400(batch_token, body, content_type):
    response = Api(batch_token).http.post(BULK, body, content_type=content_type)
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_too_many_rows_are_refused(batch_token, worker):
    rows = _rows(worker, count=1) * (MAX_BULK_ROWS + 1)
    response = Api(batch_token).http.post(BULK, json.dumps(rows), content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_people_cannot_bulk_upload(api_as, worker):
    response = api_as(worker).post(BULK, _rows(worker))
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_job_is_visible_to_its_client_only(
    batch_token, worker, api_as, timesheets_api, django_capture_on_commit_callbacks
):
    from clients.models import Client
    from clients.services import client_create, client_grant_set
    from tests.oauth import client_credentials

    url = _upload(batch_token, _rows(worker), capture=django_capture_on_commit_callbacks)["Location"]
    other, secret = client_create(app_type=Client.AppType.M2M, name="Other batch")
    assert secret is not None  # a confidential client gets one
    client_grant_set(client=other, api=timesheets_api, scopes=["create:timesheets"])
    other_token = client_credentials(other.client_id, secret, audience=timesheets_api.identifier).json()[
        "access_token"
    ]
    assert Api(other_token).get(url).status_code == HTTPStatus.NOT_FOUND
    assert api_as(worker).get(url).status_code == HTTPStatus.NOT_FOUND


# --- OpenAPI ----------------------------------------------------------------------------------


def test_the_openapi_schema_validates_and_names_each_operations_scope(timesheets_api):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    assert schema["openapi"].startswith("3.")
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert set(scheme["flows"]) == {"authorizationCode", "clientCredentials"}
    assert "approve:timesheets" in scheme["flows"]["clientCredentials"]["scopes"]
    approve = schema["paths"]["/api/timesheets/{id}/approve"]["post"]
    assert approve["security"] == [{"oauth2": ["approve:timesheets"]}]
    assert schema["paths"]["/api/timesheets"]["get"]["security"] == [{"oauth2": ["read:timesheets"]}]


def test_the_schema_and_docs_are_served_without_a_cdn(timesheets_api):
    http = HttpClient()
    assert http.get("/api/schema").status_code == HTTPStatus.OK
    docs = http.get("/api/docs")
    assert docs.status_code == HTTPStatus.OK
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_the_docs_page_runs_under_our_content_security_policy(timesheets_api):
    docs = HttpClient().get("/api/docs")
    policy = docs["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    html = docs.content.decode()
    # No inline script: Swagger UI's set-up is served as a separate script from our origin.
    assert "<script>" not in html.replace(" ", "")
    setup = HttpClient().get("/api/docs?script=")
    assert setup.status_code == HTTPStatus.OK
    assert "SwaggerUIBundle" in setup.content.decode()
