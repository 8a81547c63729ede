"""Catalogue: the edges of /authorize that real relying parties reach (issue 12, points 5, 6, 10).

``max_age`` is satisfied by the sign-in it asked for (and ``auth_time`` is that sign-in);
``prompt=consent`` always shows the consent screen; a ``response_mode`` other than ``query``
is refused on the verified callback; ``iss`` is on every redirect exactly once;
``offline_access`` is neither promised nor granted where no refresh token can come; a rule
that denies stops the flow at /authorize. See also tests/security/test_authorize.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from apis.services import api_update
from authz.models import Consent
from authz.services import consent_remember, consent_revoke
from clients.models import Client
from clients.services import client_create
from tests.authz import rules_for_tests
from tests.oauth import (
    ISSUER,
    MOBILE_CALLBACK,
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    consent,
    consent_fields,
    exchange,
    get_code,
)

from .helpers import jwt_parts, query_lists

pytestmark = pytest.mark.django_db

STAY_SIGNED_IN = b"Stay signed in"


@dataclass
class Walk:
    """What a browser went through on its way back to the client."""

    redirect: HttpResponseBase
    sign_ins: int = 0
    consent_pages: list[HttpResponseBase] = field(default_factory=list)


def _walk(http: HttpClient, url: str, user: User, password: str) -> Walk:
    """Follow the flow as a browser does: sign in when asked, allow when asked."""
    sign_ins, pages = 0, list[HttpResponseBase]()
    response = http.get(url)
    for _ in range(12):
        if response.status_code == HTTPStatus.FOUND:
            if not response["Location"].startswith("/"):
                return Walk(response, sign_ins, pages)
            url = response["Location"]
            response = http.get(url)
        elif response.status_code == HTTPStatus.OK and urlsplit(url).path == "/login/":
            sign_ins += 1
            response = http.post(url, {"username": user.email, "password": password})
        elif response.status_code == HTTPStatus.OK and "form" in (response.context or {}):
            pages.append(response)
            response = http.post("/authorize", {**consent_fields(response), "allow": "Authorize"})
        else:
            raise AssertionError(f"unexpected {response.status_code} at {url}")
    raise AssertionError(f"the flow did not end: still at {url} after {sign_ins} sign-ins")


def _signed_in(user: User, password: str, *, ago: timedelta = timedelta(minutes=10)) -> HttpClient:
    """A browser that signed in with the password, ``ago`` before now."""
    http = HttpClient()
    response = http.post("/login/", {"username": user.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - ago)
    return http


def _id_token_claims(client_id: str, pkce: Pkce, redirect: HttpResponseBase) -> dict:
    code = query_lists(redirect)["code"][0]
    tokens = exchange(HttpClient(), client_id, code, pkce.verifier)
    assert tokens.status_code == HTTPStatus.OK, tokens.content
    return jwt_parts(tokens.json()["id_token"])[1]


def _assert_to_callback(response: HttpResponseBase, *, state: str) -> dict[str, list[str]]:
    """A redirect to the verified callback, answered in the query, with state and one iss."""
    assert response.status_code == HTTPStatus.FOUND, response.get("Location")
    location = response["Location"]
    assert location.startswith(MOBILE_CALLBACK + "?"), location
    assert "#" not in location
    params = query_lists(response)
    assert params["iss"] == [ISSUER]  # exactly once
    assert params["state"] == [state]
    return params


def _assert_error(response: HttpResponseBase, error: str, *, state: str) -> dict[str, list[str]]:
    params = _assert_to_callback(response, state=state)
    assert params["error"] == [error]
    assert "code" not in params
    return params


# --- max_age ----------------------------------------------------------------------------------


def test_max_age_zero_completes_after_one_fresh_sign_in(public_client, user, password):
    http = _signed_in(user, password)
    pkce = Pkce.new()
    walk = _walk(http, authorize_url(public_client.client_id, pkce, max_age="0", state="S"), user, password)
    assert walk.sign_ins == 1
    assert _assert_to_callback(walk.redirect, state="S")["code"]

    auth_time = _id_token_claims(public_client.client_id, pkce, walk.redirect)["auth_time"]
    user.refresh_from_db()
    assert user.last_login is not None
    assert auth_time == int(user.last_login.timestamp())  # the sign-in max_age asked for
    assert auth_time >= time.time() - 60


def test_max_age_zero_without_a_session_needs_one_sign_in_only(public_client, user, password):
    walk = _walk(
        HttpClient(), authorize_url(public_client.client_id, Pkce.new(), max_age="0"), user, password
    )
    assert walk.sign_ins == 1
    assert query_lists(walk.redirect)["code"]


def test_max_age_zero_with_prompt_login_needs_one_sign_in_only(public_client, user, password):
    http = _signed_in(user, password)
    url = authorize_url(public_client.client_id, Pkce.new(), max_age="0", prompt="login")
    walk = _walk(http, url, user, password)
    assert walk.sign_ins == 1
    assert query_lists(walk.redirect)["code"]


def test_a_sign_in_just_before_the_request_does_not_satisfy_max_age_zero(public_client, user, password):
    http = _signed_in(user, password, ago=timedelta(seconds=1))
    response = http.get(authorize_url(public_client.client_id, Pkce.new(), max_age="0"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


def test_a_sign_in_asked_for_one_request_does_not_satisfy_another(public_client, user, password):
    http = _signed_in(user, password)
    first = http.get(authorize_url(public_client.client_id, Pkce.new(), max_age="0", state="one"))
    assert first["Location"].startswith("/login/")
    http.post("/login/", {"username": user.email, "password": password})
    other = http.get(authorize_url(public_client.client_id, Pkce.new(), max_age="0", state="two"))
    assert other.status_code == HTTPStatus.FOUND
    assert other["Location"].startswith("/login/")


@pytest.mark.parametrize("audience", [None, TIMESHEETS_API])
def test_the_sign_in_mark_cannot_be_forged_or_reused(public_client, user, password, timesheets_api, audience):
    http = _signed_in(user, password)
    url = authorize_url(public_client.client_id, Pkce.new(), max_age="0", audience=audience)
    walk = _walk(http, url, user, password)
    assert query_lists(walk.redirect)["code"]
    # The same request again, without a new sign-in: the mark was used up.
    again = http.get(url)
    assert again["Location"].startswith("/login/")
    # Whatever a browser sends in place of our signed mark counts for nothing.
    for forged in ("0", "x:0", '{"k": "x", "t": 0}'):
        http.cookies["authorize_sign_in"] = forged
        assert http.get(url)["Location"].startswith("/login/")


def test_prompt_none_with_a_sign_in_older_than_max_age_is_login_required(public_client, user, password):
    http = _signed_in(user, password)
    consent_remember(user=user, client=public_client, audience="", scopes=["openid"])
    url = authorize_url(public_client.client_id, Pkce.new(), scope="openid", prompt="none", state="S")
    assert query_lists(http.get(url))["code"]  # the session and the consent are enough
    response = http.get(
        authorize_url(
            public_client.client_id, Pkce.new(), scope="openid", prompt="none", max_age="60", state="S"
        )
    )
    _assert_error(response, "login_required", state="S")  # never the sign-in page


# --- prompt=consent ---------------------------------------------------------------------------


@pytest.fixture
def first_party(db) -> Client:
    client, _ = client_create(
        app_type=Client.AppType.NATIVE, name="First", redirect_uris=[MOBILE_CALLBACK], first_party=True
    )
    return client


def test_a_first_party_application_skips_consent_without_prompt(first_party, user_client, timesheets_api):
    response = user_client.get(authorize_url(first_party.client_id, Pkce.new(), audience=TIMESHEETS_API))
    assert query_lists(response)["code"]


def test_prompt_consent_shows_the_consent_screen_to_a_first_party_application(
    first_party, user, password, timesheets_api
):
    http = _signed_in(user, password)
    url = authorize_url(first_party.client_id, Pkce.new(), audience=TIMESHEETS_API, prompt="consent")
    page = http.get(url)
    assert page.status_code == HTTPStatus.OK
    assert b'id="authorizationForm"' in page.content
    walk = _walk(http, url, user, password)
    assert len(walk.consent_pages) == 1
    assert query_lists(walk.redirect)["code"]


def test_prompt_login_consent_signs_in_once_then_shows_the_consent_screen(
    first_party, user, password, timesheets_api
):
    http = _signed_in(user, password)
    url = authorize_url(first_party.client_id, Pkce.new(), audience=TIMESHEETS_API, prompt="login consent")
    walk = _walk(http, url, user, password)
    assert walk.sign_ins == 1
    assert len(walk.consent_pages) == 1  # signing in satisfies login, not consent
    assert query_lists(walk.redirect)["code"]


def test_prompt_consent_asks_again_despite_a_remembered_consent(public_client, user_client, user):
    consent_remember(user=user, client=public_client, audience="", scopes=["openid"])
    remembered = user_client.get(authorize_url(public_client.client_id, Pkce.new(), scope="openid"))
    assert query_lists(remembered)["code"]
    page = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), scope="openid", prompt="consent")
    )
    assert page.status_code == HTTPStatus.OK
    assert b'id="authorizationForm"' in page.content


@pytest.mark.parametrize("prompt", [None, "consent"])
def test_a_client_cannot_skip_consent_with_dots_approval_prompt(public_client, user_client, user, prompt):
    """DOT would skip the question when the person holds a live token for these scopes."""
    consent(user_client, authorize_url(public_client.client_id, Pkce.new(), scope="openid"))
    code = get_code(user_client, public_client.client_id, pkce := Pkce.new(), scope="openid")
    assert exchange(user_client, public_client.client_id, code, pkce.verifier).status_code == HTTPStatus.OK
    consent_revoke(actor=None, consent=Consent.objects.get(user=user))  # an administrator forgets it

    params = {"prompt": prompt} if prompt else {}
    url = authorize_url(public_client.client_id, Pkce.new(), scope="openid", approval_prompt="auto", **params)
    page = user_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert b'id="authorizationForm"' in page.content


def test_discovery_lists_prompt_consent(client):
    assert "consent" in client.get("/.well-known/openid-configuration").json()["prompt_values_supported"]


# --- response_mode and iss --------------------------------------------------------------------


@pytest.mark.parametrize("response_mode", ["fragment", "form_post", "web_message", "query.jwt", ""])
def test_a_response_mode_other_than_query_is_invalid_request(public_client, user_client, response_mode):
    url = authorize_url(public_client.client_id, Pkce.new(), response_mode=response_mode, state="S")
    params = _assert_error(user_client.get(url), "invalid_request", state="S")
    assert "response_mode" in params["error_description"][0]


def test_response_mode_query_is_served(public_client, user, password):
    http = _signed_in(user, password)
    walk = _walk(
        http,
        authorize_url(public_client.client_id, Pkce.new(), response_mode="query", state="S"),
        user,
        password,
    )
    assert _assert_to_callback(walk.redirect, state="S")["code"]


def test_a_callback_with_its_own_iss_still_gets_exactly_ours(user, password):
    callback = MOBILE_CALLBACK + "?iss=https%3A%2F%2Fevil.example"
    client, _ = client_create(app_type=Client.AppType.NATIVE, name="Iss", redirect_uris=[callback])
    http = _signed_in(user, password)
    for params in ({}, {"response_mode": "fragment"}, {"code_challenge_method": "plain"}):
        url = authorize_url(client.client_id, Pkce.new(), redirect_uri=callback, state="S", **params)
        redirect = _walk(http, url, user, password).redirect
        assert query_lists(redirect)["iss"] == [ISSUER], redirect["Location"]


# --- offline_access ---------------------------------------------------------------------------


@pytest.mark.parametrize("audience", [TIMESHEETS_API, None], ids=["api-without-offline-access", "no-api"])
def test_offline_access_is_neither_promised_nor_granted_where_no_refresh_token_can_come(
    public_client, user, password, timesheets_api, audience
):
    api_update(api=timesheets_api, allow_offline_access=False)
    http = _signed_in(user, password)
    pkce = Pkce.new()
    url = authorize_url(public_client.client_id, pkce, audience=audience, scope="openid offline_access")
    page = http.get(url)
    assert page.status_code == HTTPStatus.OK
    assert STAY_SIGNED_IN not in page.content
    assert "offline_access" not in page.context["scopes"]
    walk = _walk(http, url, user, password)
    code = query_lists(walk.redirect)["code"][0]
    tokens = exchange(HttpClient(), public_client.client_id, code, pkce.verifier).json()
    assert tokens["scope"].split() == ["openid"]
    assert "refresh_token" not in tokens
    if audience is not None:
        assert jwt_parts(tokens["access_token"])[1]["scope"].split() == ["openid"]


def test_offline_access_is_promised_and_granted_where_the_api_allows_it(
    public_client, user_client, timesheets_api
):
    url = authorize_url(
        public_client.client_id, Pkce.new(), audience=TIMESHEETS_API, scope="openid offline_access"
    )
    page = user_client.get(url)
    assert STAY_SIGNED_IN in page.content
    assert page.context["scopes"] == ["openid", "offline_access"]


# --- Rules that deny --------------------------------------------------------------------------


@pytest.fixture
def deny_contractors(settings):
    settings.AUTHZ_RULES = [*settings.AUTHZ_RULES, "tests.authz.rules_for_tests.deny_contractors"]
    rules_for_tests.SEEN.clear()


def _contractor(user: User) -> User:
    user.worker_type = "contractor"
    user.save(update_fields=["worker_type"])
    return user


@pytest.mark.parametrize("app", ["public", "first-party"])
def test_a_denying_rule_stops_the_flow_at_authorize(
    deny_contractors, public_client, first_party, user, user_client, timesheets_api, app
):
    _contractor(user)
    client = public_client if app == "public" else first_party
    response = user_client.get(
        authorize_url(client.client_id, Pkce.new(), audience=TIMESHEETS_API, state="S")
    )
    params = _assert_error(response, "access_denied", state="S")
    assert params["error_description"] == ["Contractors cannot use this application."]


def test_a_rule_that_starts_denying_after_the_consent_screen_denies_the_consent_post(
    deny_contractors, public_client, user, user_client, timesheets_api
):
    page = user_client.get(
        authorize_url(public_client.client_id, Pkce.new(), audience=TIMESHEETS_API, state="S")
    )
    assert page.status_code == HTTPStatus.OK
    _contractor(user)
    response = user_client.post("/authorize", {**consent_fields(page), "allow": "Authorize"})
    _assert_error(response, "access_denied", state="S")


def test_a_rule_that_does_not_deny_lets_the_flow_through(deny_contractors, public_client, user, password):
    walk = _walk(
        _signed_in(user, password), authorize_url(public_client.client_id, Pkce.new()), user, password
    )
    assert query_lists(walk.redirect)["code"]


def test_the_token_endpoint_still_checks_the_rules(
    deny_contractors, public_client, user, password, timesheets_api
):
    pkce = Pkce.new()
    url = authorize_url(public_client.client_id, pkce, audience=TIMESHEETS_API)
    walk = _walk(_signed_in(user, password), url, user, password)
    code = query_lists(walk.redirect)["code"][0]
    _contractor(user)  # between the code and its exchange
    response = exchange(HttpClient(), public_client.client_id, code, pkce.verifier)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Contractors cannot use this application.",
    }
