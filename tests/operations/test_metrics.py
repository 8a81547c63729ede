"""/metrics: who may read it, and what it counts after a scripted flow (in this process;
test_metrics_workers.py checks the sums across gunicorn workers).

The counters live for the whole test process, so every test reads them before and after
what it does and compares the difference.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from celery import shared_task
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as HttpClient
from prometheus_client.parser import text_string_to_metric_families

from accounts.metrics_celery import broker_redis, broker_redis_url, queue_keys
from accounts.metrics_http import check_metrics_addresses
from authz.oauth import views
from clients.services import client_grant_set
from tests.accounts.mfa_helpers import code_for, confirmed_device, steady_step
from tests.oauth import TIMESHEETS_API, Pkce, client_credentials, exchange, get_code

SCRAPE_TOKEN = "metrics-scrape-token-for-tests"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def _scrape_token(settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []


def scrape() -> Samples:
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert response.status_code == HTTPStatus.OK, response.content
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


# --- Who may scrape -----------------------------------------------------------------------


def test_without_a_token_the_scraper_is_challenged():
    response = HttpClient().get("/metrics")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"abc_identity" not in response.content


def test_a_wrong_token_is_refused():
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}x")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics", error="invalid_token"'
    assert b"abc_identity" not in response.content


def test_the_right_token_reads_the_metrics_in_prometheus_text_format():
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {"abc_identity_tokens_issued", "abc_identity_http_request_duration_seconds"} <= names


def test_with_no_token_configured_an_empty_bearer_is_no_key(settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}):
        response = HttpClient().get("/metrics", headers=headers)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert b"abc_identity" not in response.content


def test_an_allowed_address_reads_without_a_token(settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "2001:db8::1"]
    assert HttpClient(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == HTTPStatus.OK
    assert HttpClient(REMOTE_ADDR="2001:db8::1").get("/metrics").status_code == HTTPStatus.OK
    assert HttpClient(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == HTTPStatus.UNAUTHORIZED


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    forged = HttpClient(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert forged.get("/metrics").status_code == HTTPStatus.UNAUTHORIZED

    settings.TRUSTED_PROXIES = ["192.0.2.7"]
    assert forged.get("/metrics").status_code == HTTPStatus.OK
    # Through our proxy, an address outside the list is still refused.
    outside = HttpClient(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert outside.get("/metrics").status_code == HTTPStatus.UNAUTHORIZED


def test_an_allowed_address_that_is_not_one_stops_the_server_from_starting(settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "prometheus.internal"]
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_ADDRESSES"):
        check_metrics_addresses()


def test_scraping_by_address_over_http_is_not_redirected_or_refused_for_its_host(settings):
    # Production: https only, known host names. Prometheus reaches each server by address.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["id.abcinc.example"]
    http = HttpClient(HTTP_HOST="10.0.0.5:8000")
    assert http.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}").status_code == HTTPStatus.OK
    assert http.get("/metrics").status_code == HTTPStatus.UNAUTHORIZED
    # Everything else still is.
    assert http.get("/login/").status_code == HTTPStatus.BAD_REQUEST


# --- What it counts ---------------------------------------------------------------------------


@pytest.fixture
def batch(confidential_client, timesheets_api) -> tuple[str, str]:
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client.client_id, secret


TOKENS = "abc_identity_tokens_issued_total"
ERRORS = "abc_identity_token_errors_total"
LATENCY_COUNT = "abc_identity_http_request_duration_seconds_count"


def test_tokens_errors_and_latency_after_client_credentials(db, batch):
    client_id, secret = batch
    labels = {"grant_type": "client_credentials", "audience": TIMESHEETS_API, "client_id": client_id}
    before = scrape()

    issued = [client_credentials(client_id, secret, audience=TIMESHEETS_API) for _ in range(3)]
    refused = [client_credentials(client_id, "wrong-secret", audience=TIMESHEETS_API) for _ in range(2)]
    unsupported = HttpClient().post("/oauth/token", {"grant_type": "password", "username": "x"})

    assert [response.status_code for response in issued] == [HTTPStatus.OK] * 3
    assert [response.status_code for response in refused] == [HTTPStatus.UNAUTHORIZED] * 2
    assert unsupported.status_code == HTTPStatus.BAD_REQUEST
    after = scrape()
    assert grew(before, after, TOKENS, **labels) == 3
    assert grew(before, after, ERRORS, error="invalid_client") == 2
    assert grew(before, after, ERRORS, error="unsupported_grant_type") == 1
    assert grew(before, after, LATENCY_COUNT, route="token", method="POST", status="2xx") == 3
    assert grew(before, after, LATENCY_COUNT, route="token", method="POST", status="4xx") == 3


def test_a_token_from_the_generic_path_is_counted_once(
    db, batch, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views, "fast_client_credentials", lambda request: None)
    client_id, secret = batch
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_credentials(client_id, secret, audience=TIMESHEETS_API)
    assert response.status_code == HTTPStatus.OK
    labels = {"grant_type": "client_credentials", "audience": TIMESHEETS_API, "client_id": client_id}
    assert grew(before, scrape(), TOKENS, **labels) == 1


def test_a_rate_limited_token_request_is_counted_by_its_error(db, batch, settings, steady_rate_window):
    settings.RATE_LIMIT_PER_IP = 1
    client_id, secret = batch
    before = scrape()
    client_credentials(client_id, secret, audience=TIMESHEETS_API)
    limited = client_credentials(client_id, secret, audience=TIMESHEETS_API)
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert grew(before, scrape(), ERRORS, error="temporarily_unavailable") == 1


def test_code_refresh_and_revocation(
    public_client, user_client, timesheets_api, django_capture_on_commit_callbacks
):
    labels = {"audience": TIMESHEETS_API, "client_id": public_client.client_id}
    before = scrape()
    pkce = Pkce.new()
    code = get_code(
        user_client,
        public_client.client_id,
        pkce,
        scope="openid offline_access read:timesheets",
        audience=TIMESHEETS_API,
    )
    with django_capture_on_commit_callbacks(execute=True):
        tokens = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    with django_capture_on_commit_callbacks(execute=True):
        refreshed = HttpClient().post(
            "/oauth/token",
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": public_client.client_id,
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        revoked = HttpClient().post(
            "/oauth/revoke",
            {"token": refreshed.json()["refresh_token"], "client_id": public_client.client_id},
        )
    with django_capture_on_commit_callbacks(execute=True):
        replayed = exchange(user_client, public_client.client_id, code, pkce.verifier)

    assert (refreshed.status_code, replayed.status_code, revoked.status_code) == (
        HTTPStatus.OK,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.OK,
    )
    after = scrape()
    assert grew(before, after, TOKENS, grant_type="authorization_code", **labels) == 1
    assert grew(before, after, TOKENS, grant_type="refresh_token", **labels) == 1
    assert grew(before, after, ERRORS, error="invalid_grant") == 1
    # The revocation endpoint revoked the grant; the replayed code revoked it again.
    assert grew(before, after, "abc_identity_revocations_total", kind="grant") == 2
    assert grew(before, after, LATENCY_COUNT, route="authorize", method="GET", status="2xx") == 1


SIGN_INS = "abc_identity_sign_ins_total"
FAILURES = "abc_identity_sign_in_failures_total"


def _login(http: HttpClient, email: str, password: str):
    return http.post("/login/", {"username": email, "password": password})


def test_sign_ins_and_their_failures(user, password, steady_rate_window):
    before = scrape()
    assert _login(HttpClient(), user.email, "wrong-password").status_code == HTTPStatus.OK
    assert _login(HttpClient(), "nobody@abcinc.example", "wrong-password").status_code == HTTPStatus.OK
    assert _login(HttpClient(), user.email, password).status_code == HTTPStatus.FOUND
    after = scrape()
    assert grew(before, after, FAILURES, reason="wrong_password") == 1
    assert grew(before, after, FAILURES, reason="unknown_person") == 1
    assert grew(before, after, SIGN_INS) == 1


def test_a_sign_in_with_a_second_factor_counts_once_when_it_completes(
    user, password, settings, steady_rate_window
):
    settings.MFA_POLICY = "accounts.mfa.policy.never"
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no pause after the wrong code
    steady_step()
    device = confirmed_device(user)
    http = HttpClient()
    before = scrape()

    assert _login(http, user.email, password)["Location"] == "/login/verify/"
    half_way = scrape()
    # Five steps ahead: outside the one step either way that the server accepts.
    wrong = http.post("/login/verify/", {"factor": "totp", "code": code_for(device, steps_ahead=5)})
    done = http.post("/login/verify/", {"factor": "totp", "code": code_for(device)})

    assert wrong.status_code == HTTPStatus.OK and done.status_code == HTTPStatus.FOUND
    after = scrape()
    assert grew(before, half_way, SIGN_INS) == 0
    assert grew(before, after, SIGN_INS) == 1
    assert grew(before, after, FAILURES, reason="second_factor") == 1


def test_a_lockout_is_counted(user, password, settings, steady_rate_window):
    before = scrape()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(HttpClient(), user.email, "wrong-password")
    locked = _login(HttpClient(), user.email, password)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    after = scrape()
    assert grew(before, after, "abc_identity_lockouts_total") == 1
    assert grew(before, after, SIGN_INS) == 0
    # Each wrong password is a failure (the last one as the lockout it caused); the right
    # password while locked is refused before it is checked.
    refused = sum(grew(before, after, FAILURES, reason=reason) for reason in ("wrong_password", "locked_out"))
    assert refused == settings.AXES_FAILURE_LIMIT


def test_dashboard_and_api_requests_are_timed_under_their_routes(staff_client):
    before = scrape()
    assert staff_client.get("/dashboard/").status_code == HTTPStatus.OK
    assert HttpClient().get("/api/timesheets").status_code == HTTPStatus.UNAUTHORIZED
    assert HttpClient().get("/api/v2/clients").status_code == HTTPStatus.UNAUTHORIZED
    after = scrape()
    assert grew(before, after, LATENCY_COUNT, route="dashboard", method="GET", status="2xx") == 1
    assert grew(before, after, LATENCY_COUNT, route="api", method="GET", status="4xx") == 2


# --- Celery (the broker's Redis) ------------------------------------------------------------

needs_redis_broker = pytest.mark.skipif(
    broker_redis_url() is None, reason="Celery's queue and failures are read from a Redis broker"
)


@shared_task(name="tests.operations.always_fails")
def always_fails() -> None:
    raise RuntimeError("this task fails on purpose")


@needs_redis_broker
def test_queue_length_and_task_failures_from_redis(settings):
    settings.CELERY_TASK_DEFAULT_QUEUE = f"test-metrics-{uuid.uuid4().hex[:8]}"
    redis = broker_redis(str(django_settings.CELERY_BROKER_URL))
    queue, priority_queue = queue_keys(settings.CELERY_TASK_DEFAULT_QUEUE)[:2]
    before = scrape()
    try:
        redis.rpush(queue, "a", "b")
        redis.rpush(priority_queue, "c")
        # How a worker runs a task (not eagerly raised into the caller): task_failure is sent.
        assert always_fails.apply(throw=False).state == "FAILURE"
        after = scrape()
    finally:
        redis.delete(queue, priority_queue)
    assert value(after, "abc_identity_celery_queue_length", queue=settings.CELERY_TASK_DEFAULT_QUEUE) == 3
    task = "tests.operations.always_fails"
    assert grew(before, after, "abc_identity_celery_task_failures_total", task=task) == 1


def test_a_broker_that_does_not_answer_leaves_the_celery_metrics_out(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert response.status_code == HTTPStatus.OK
    assert b"abc_identity_tokens_issued" in response.content
    assert b"abc_identity_celery_queue_length" not in response.content
