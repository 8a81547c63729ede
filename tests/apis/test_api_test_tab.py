"""The API page's Test tab: a real token for a machine application granted the API, shown decoded."""

from __future__ import annotations

import base64
import html
import json
import re
from http import HTTPStatus

import jwt
import pytest
from django.test import Client as HttpClient
from oauth2_provider.models import get_access_token_model

from accounts.models import AuditEntry
from apis.models import Api
from authz.dashboard import api_test
from authz.oauth.access_tokens import verified_claims
from authz.rules import PROTOCOLS
from clients import services as client_services
from clients.models import Client

pytestmark = pytest.mark.django_db

# Differ between two tokens issued a moment apart, whoever issues them.
PER_TOKEN = {"iat", "nbf", "exp", "jti", "gid"}


@pytest.fixture
def batch(timesheets_api) -> tuple[Client, str]:
    client, secret = client_services.client_create(app_type=Client.AppType.M2M, name="Payroll Batch")
    assert secret is not None  # a machine always has one
    client_services.client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    return client, secret


@pytest.fixture
def minted(monkeypatch) -> list[str]:
    """The tokens the Test tab makes (the page never shows them)."""
    tokens: list[str] = []
    real = api_test.mint_access_token

    def spy(*args, **kwargs) -> str:
        tokens.append(real(*args, **kwargs))
        return tokens[-1]

    monkeypatch.setattr(api_test, "mint_access_token", spy)
    return tokens


def _url(api: Api) -> str:
    return f"/dashboard/apis/{api.pk}/test/"


def _shown(response, name: str) -> dict:
    match = re.search(
        rf'<pre id="test-{name}"><code>(.*?)</code></pre>', response.content.decode(), re.DOTALL
    )
    assert match is not None, response.content.decode()
    return json.loads(html.unescape(match.group(1)))


def test_the_api_page_links_its_test_tab(staff_client, timesheets_api):
    page = staff_client.get(f"/dashboard/apis/{timesheets_api.pk}/")
    assert f'href="{_url(timesheets_api)}">Test</a>' in page.content.decode()
    tab = staff_client.get(_url(timesheets_api))
    assert tab.status_code == HTTPStatus.OK
    assert f'href="{_url(timesheets_api)}" aria-current="page">Test</a>' in tab.content.decode()


def test_only_machine_applications_granted_the_api_are_offered(
    staff_client, timesheets_api, hs256_api, batch
):
    other, _ = client_services.client_create(app_type=Client.AppType.M2M, name="Reports Batch")
    client_services.client_grant_set(client=other, api=hs256_api, scopes=["read:reports"])
    client_services.client_create(
        app_type=Client.AppType.SPA, name="Web", redirect_uris=["https://a.example/cb"]
    )
    content = staff_client.get(_url(timesheets_api)).content.decode()
    assert f'<option value="{batch[0].pk}"' in content
    assert "Reports Batch" not in content and ">Web (" not in content

    empty = Api.objects.get(system=True)
    assert "No Machine to Machine application is authorized" in staff_client.get(_url(empty)).content.decode()


def test_issues_the_token_the_token_endpoint_issues(staff_client, staff_user, timesheets_api, batch, minted):
    client, secret = batch
    response = staff_client.post(_url(timesheets_api), {"client": client.pk})
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"].startswith("max-age=0")
    (token,) = minted
    # A real token: it verifies as the API verifies it, and the page shows its claims.
    claims = verified_claims(token)
    assert claims is not None
    assert _shown(response, "claims") == claims
    assert _shown(response, "header") == jwt.get_unverified_header(token)
    assert claims["aud"] == timesheets_api.identifier
    assert claims["scope"] == "read:timesheets"
    assert claims["sub"] == f"{client.client_id}@clients"
    # What the token endpoint gives the application with its own credentials, but for the
    # claims that differ between any two tokens.
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    answer = HttpClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials", "audience": timesheets_api.identifier},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert answer.status_code == HTTPStatus.OK, answer.content
    endpoint = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert {k: v for k, v in claims.items() if k not in PER_TOKEN} == {
        k: v for k, v in endpoint.items() if k not in PER_TOKEN
    }
    # Shown decoded, never as a credential, and stored nowhere.
    assert token not in response.content.decode()
    assert token.split(".")[2] not in response.content.decode()
    assert get_access_token_model().objects.count() == 0
    entry = AuditEntry.objects.get(action="api.test_token")
    assert entry.actor == staff_user
    assert entry.target_id == str(timesheets_api.pk)
    assert entry.after == {"client_id": client.client_id, "scope": "read:timesheets", "jti": claims["jti"]}


def test_the_token_rules_run(staff_client, timesheets_api, batch, minted, settings):
    settings.AUTHZ_RULES = [*settings.AUTHZ_RULES, "tests.authz.rules_for_tests.record_protocol"]
    response = staff_client.post(_url(timesheets_api), {"client": batch[0].pk})
    assert _shown(response, "claims")["https://abcinc.example/protocol"] == PROTOCOLS["client_credentials"]


def test_a_client_not_granted_the_api_is_refused(staff_client, timesheets_api, hs256_api, batch, minted):
    other, _ = client_services.client_create(app_type=Client.AppType.M2M, name="Reports Batch")
    client_services.client_grant_set(client=other, api=hs256_api, scopes=["read:reports"])
    native, _ = client_services.client_create(
        app_type=Client.AppType.NATIVE, name="Mobile", redirect_uris=["com.abcinc.timesheets:/callback"]
    )
    for pk in (other.pk, native.pk, 999_999, "x"):
        response = staff_client.post(_url(timesheets_api), {"client": pk})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Choose an application that is authorized to call this API." in html.unescape(
            response.content.decode()
        )
        assert 'id="test-claims"' not in response.content.decode()
    assert minted == []
    assert not AuditEntry.objects.filter(action="api.test_token").exists()


def test_a_grant_without_scopes_is_refused_as_the_endpoint_refuses_it(staff_client, timesheets_api, minted):
    client, _ = client_services.client_create(app_type=Client.AppType.M2M, name="Empty Batch")
    client_services.client_grant_set(client=client, api=timesheets_api, scopes=[])
    response = staff_client.post(_url(timesheets_api), {"client": client.pk})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert (
        f"The token endpoint would refuse it: Empty Batch has not been granted any scope on "
        f"{timesheets_api.identifier}." in html.unescape(response.content.decode())
    )
    assert minted == []


def test_staff_only_and_administrators_only_issue(
    auditor_client, user_client, timesheets_api, batch, minted, csrf_staff_client
):
    assert auditor_client.get(_url(timesheets_api)).status_code == HTTPStatus.OK
    assert (
        auditor_client.post(_url(timesheets_api), {"client": batch[0].pk}).status_code == HTTPStatus.FORBIDDEN
    )
    assert user_client.get(_url(timesheets_api)).status_code == HTTPStatus.FORBIDDEN
    assert user_client.post(_url(timesheets_api), {"client": batch[0].pk}).status_code == HTTPStatus.FORBIDDEN
    anonymous = HttpClient().post(_url(timesheets_api), {"client": batch[0].pk})
    assert anonymous.status_code == HTTPStatus.FOUND and "/login" in anonymous["Location"]
    # Without the CSRF token, an administrator's browser is refused too.
    assert csrf_staff_client.post(_url(timesheets_api), {"client": batch[0].pk}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert minted == []


@pytest.fixture
def csrf_staff_client(staff_user) -> HttpClient:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(staff_user)
    return http
