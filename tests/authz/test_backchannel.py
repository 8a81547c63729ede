"""Back-channel logout: a test server stands in for an application and receives the logout
token; the token is ours (JWKS), for that application, and failed deliveries retry and are
audited."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt as pyjwt
import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from accounts.models import AuditEntry
from accounts.services import user_deactivate
from accounts.sessions import sessions_delete
from authz.oauth.backchannel import (
    LOGOUT_EVENT,
    backchannel_logout_for,
    id_token_sid_claims,
    session_sid,
    sid_remember,
    with_backchannel_logout,
)
from authz.oauth.tasks import BACKCHANNEL_RETRIES, backchannel_logout_deliver
from authz.services import user_access_revoke
from clients.models import Client, validate_backchannel_uri
from tests.oauth import ISSUER, Pkce, exchange, get_code, jwks, verify

pytestmark = pytest.mark.django_db


class Receiver:
    """An application's back-channel endpoint: answers each POST with the next status."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.received.append(parse_qs(body)["logout_token"][0])
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else HTTPStatus.OK)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def app(public_client, receiver) -> Client:
    public_client.backchannel_logout_uri = receiver.url
    public_client.backchannel_logout_session_required = True
    public_client.save()
    return public_client


def _audited(action: str) -> list[dict]:
    """What the audit log recorded for each ``action``, oldest first."""
    return [entry.after or {} for entry in AuditEntry.objects.filter(action=action).order_by("pk")]


def _sign_in(http: HttpClient, client: Client) -> None:
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope="openid")
    assert exchange(http, client.client_id, code, pkce.verifier).status_code == HTTPStatus.OK


def test_sign_out_sends_a_verified_logout_token(
    app, user, user_client, receiver, django_capture_on_commit_callbacks
):
    _sign_in(user_client, app)
    session_key = user_client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/logout/")

    assert len(receiver.received) == 1
    token = receiver.received[0]
    assert pyjwt.get_unverified_header(token)["typ"] == "logout+jwt"
    claims = verify(token, jwks(HttpClient()), iss=ISSUER, aud=app.client_id)
    assert claims["sub"] == str(user.sub)
    assert claims["sid"] == session_sid(session_key)
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert "nonce" not in claims
    assert claims["jti"] and claims["iat"] <= claims["exp"] <= claims["iat"] + 300
    assert [after["status"] for after in _audited("backchannel_logout.delivered")] == [HTTPStatus.OK]


def test_the_end_session_endpoint_sends_it_too(
    app, user_client, receiver, django_capture_on_commit_callbacks
):
    _sign_in(user_client, app)
    with django_capture_on_commit_callbacks(execute=True):
        user_client.get("/oauth/logout", {"client_id": app.client_id})  # confirmation page
        user_client.post("/oauth/logout", {"client_id": app.client_id, "confirm": "yes"})
    assert len(receiver.received) == 1


def test_only_applications_holding_a_grant_are_told(
    app, user, user_client, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/logout/")
    assert receiver.received == []


def test_blocking_tells_the_applications_it_cuts_off(
    app, user, user_client, receiver, django_capture_on_commit_callbacks
):
    _sign_in(user_client, app)
    with django_capture_on_commit_callbacks(execute=True):
        user_deactivate(actor=None, user=user, revoke_access=with_backchannel_logout(user_access_revoke))
    assert len(receiver.received) == 1
    assert verify(receiver.received[0], jwks(HttpClient()))["sub"] == str(user.sub)


def _deliver(client: Client, user, *, retries: int = 0) -> str:
    """The delivery task run in this process from its ``retries``-th retry on (Celery runs
    the retries it asks for at once, without the countdown); the last run's state."""
    result = backchannel_logout_deliver.apply((client.pk, str(user.sub), None), retries=retries, throw=False)
    return result.state


def test_sign_out_queues_a_delivery_per_application(
    app, user, user_client, django_capture_on_commit_callbacks
):
    _sign_in(user_client, app)
    with django_capture_on_commit_callbacks() as callbacks:
        assert backchannel_logout_for(user, session_key=None) == [app]
    assert len(callbacks) == 1  # after the commit, not inside the transaction


def test_a_failed_delivery_is_retried_and_audited(app, user, receiver):
    receiver.statuses = [HTTPStatus.SERVICE_UNAVAILABLE]
    assert _deliver(app, user) == "SUCCESS"

    assert len(receiver.received) == 2
    [failed] = _audited("backchannel_logout.failed")
    assert failed["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert failed["attempt"] == 1
    assert [after["attempt"] for after in _audited("backchannel_logout.delivered")] == [2]
    # Each attempt has its own token; without a session there is no sid, sub names the person.
    assert len(set(receiver.received)) == 2
    assert "sid" not in verify(receiver.received[-1], jwks(HttpClient()))


def test_an_unreachable_application_is_given_up_after_the_last_retry(app, user):
    app.backchannel_logout_uri = "http://127.0.0.1:1/closed"
    app.save()
    assert _deliver(app, user, retries=BACKCHANNEL_RETRIES - 1) == "SUCCESS"  # given up, not raised
    failures = _audited("backchannel_logout.failed")
    assert [after["attempt"] for after in failures] == [BACKCHANNEL_RETRIES, BACKCHANNEL_RETRIES + 1]
    assert {after["error"] for after in failures} == {"ConnectionError"}


@pytest.mark.parametrize("status", [HTTPStatus.BAD_REQUEST, HTTPStatus.FOUND])
def test_a_refusal_or_redirect_is_not_retried(app, user, receiver, status):
    receiver.statuses = [status]
    assert _deliver(app, user) == "SUCCESS"
    assert len(receiver.received) == 1
    assert [after["status"] for after in _audited("backchannel_logout.failed")] == [status]


def test_discovery_advertises_back_channel_logout_with_sessions(django_assert_num_queries):
    with django_assert_num_queries(0):  # discovery reads no database
        metadata = HttpClient().get("/.well-known/openid-configuration").json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_sid_for_id_tokens_only_with_back_channel_logout(public_client):
    sid_remember(code="code-1", session_key="session-1")
    assert id_token_sid_claims(public_client, code="code-1") == {}
    public_client.backchannel_logout_uri = "https://app.abcinc.example/bcl"
    assert id_token_sid_claims(public_client, code="code-1") == {"sid": session_sid("session-1")}
    assert id_token_sid_claims(public_client, code="code-2") == {}
    assert id_token_sid_claims(public_client, code=None) == {}
    sid_remember(code="code-3", session_key=None)
    assert id_token_sid_claims(public_client, code="code-3") == {}
    # The sid names the session without revealing its key.
    assert session_sid("session-1") != session_sid("session-2")
    assert "session-1" not in session_sid("session-1")


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.abcinc.example/bcl",
        "http://127.0.0.1.evil.example/bcl",
        "https://app.abcinc.example/bcl#frag",
        "https://user:pw@app.abcinc.example/bcl",
        "https://app.abcinc.example:99999/bcl",
        "javascript:alert(1)",
    ],
)
def test_back_channel_url_must_be_https_or_loopback(uri):
    with pytest.raises(ValidationError):
        validate_backchannel_uri(uri)


@pytest.mark.parametrize(
    "uri", ["https://app.abcinc.example/bcl", "http://127.0.0.1:8001/bcl", "http://localhost/bcl"]
)
def test_back_channel_urls_accepted(uri):
    validate_backchannel_uri(uri)


def test_the_id_token_names_the_session_that_the_logout_token_will(app, user, user_client, receiver):
    """``sid`` travels from /authorize (the browser's session) through the code to the ID
    token, and is the same value the logout token carries."""
    pkce = Pkce.new()
    code = get_code(user_client, app.client_id, pkce, scope="openid")
    tokens = exchange(user_client, app.client_id, code, pkce.verifier).json()
    claims = verify(tokens["id_token"], jwks(HttpClient()), iss=ISSUER, aud=app.client_id)
    assert claims["sid"] == session_sid(user_client.session.session_key)


def test_no_sid_for_an_application_without_back_channel_logout(public_client, user_client):
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce, scope="openid")
    tokens = exchange(user_client, public_client.client_id, code, pkce.verifier).json()
    assert "sid" not in pyjwt.decode(tokens["id_token"], options={"verify_signature": False})


def test_every_way_a_session_ends_is_told(
    app, user, user_client, receiver, django_capture_on_commit_callbacks
):
    """Sessions ended without ``logout()`` (an administrator, blocking, a password reset,
    "sign out other browsers") all delete the tracked row: each sends a logout token."""
    _sign_in(user_client, app)
    session_key = user_client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        assert sessions_delete(user=user) == 1
    assert len(receiver.received) == 1
    claims = verify(receiver.received[0], jwks(HttpClient()), iss=ISSUER, aud=app.client_id)
    assert claims["sid"] == session_sid(session_key)


@pytest.mark.parametrize("action", ["deactivate", "delete"])
def test_blocking_or_deleting_in_the_dashboard_tells_each_application_once(
    action, app, user, user_client, staff_client, receiver, django_capture_on_commit_callbacks
):
    """The person's applications get one logout token naming the person (no sid): the
    browser sessions that end with it are not announced one by one."""
    _sign_in(user_client, app)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/dashboard/people/{user.pk}/{action}/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert len(receiver.received) == 1
    claims = verify(receiver.received[0], jwks(HttpClient()), iss=ISSUER, aud=app.client_id)
    assert claims["sub"] == str(user.sub)
    assert "sid" not in claims
