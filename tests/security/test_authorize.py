"""Catalogue: authorization endpoint and redirect URIs.

Nothing reaches a client unless its redirect URI matches exactly; errors carry ``iss`` and
``state``; a person is asked to sign in (again, when the client says so) before anything is
sent. See also tests/authz/test_authorization_code_flow.py and tests/authz/test_discovery.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import User
from clients.models import Client
from clients.services import client_create, client_update
from tests.oauth import (
    ISSUER,
    LOOPBACK_CALLBACK,
    MOBILE_CALLBACK,
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    consent,
    consent_fields,
    exchange,
)

from .helpers import OTHER_CALLBACK, WEB_CALLBACK, assert_no_redirect, jwt_parts, query_lists

pytestmark = pytest.mark.django_db

TOKEN_LIKE = ("code=", "access_token", "id_token", "refresh_token")


def _authorize(client_id: str | None, **params: str | None) -> str:
    return authorize_url(client_id, Pkce.new(), **params)


def _raw_authorize(pairs: list[tuple[str, str]]) -> str:
    """An authorization URL with parameters exactly as given (repeats included)."""
    return "/authorize?" + urlencode(pairs)


def _pkce_pairs(client_id: str, redirect_uri: str = MOBILE_CALLBACK) -> list[tuple[str, str]]:
    pkce = Pkce.new()
    return [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid"),
        ("state", "st"),
        ("code_challenge", pkce.challenge),
        ("code_challenge_method", "S256"),
    ]


# --- Unknown clients, unregistered and missing redirect URIs -----------------------------------


@pytest.mark.parametrize("client_id", ["no-such-client", "", "TEST-MOBILE", "test-mobile "])
def test_an_unknown_client_id_is_an_error_page_never_a_redirect(public_client, user_client, client_id):
    assert_no_redirect(user_client.get(_authorize(client_id)))


def test_a_missing_client_id_is_an_error_page(public_client, user_client):
    assert_no_redirect(user_client.get(_authorize(None)))


def test_an_unregistered_redirect_uri_is_an_error_page_never_a_redirect(public_client, user_client):
    response = user_client.get(_authorize(public_client.client_id, redirect_uri="https://evil.example/cb"))
    assert_no_redirect(response)
    assert b'href="https://evil.example' not in response.content


def test_a_missing_redirect_uri_with_several_registered_is_an_error_page(public_client, user_client):
    assert len(public_client.redirect_uris.split()) > 1
    assert_no_redirect(user_client.get(_authorize(public_client.client_id, redirect_uri=None)))


def test_errors_found_before_the_redirect_uri_is_trusted_are_never_redirected(public_client, user_client):
    # An unsupported response type with a foreign redirect_uri: the error page, not evil.example.
    response = user_client.get(
        _authorize(public_client.client_id, redirect_uri="https://evil.example/cb", response_type="token")
    )
    assert_no_redirect(response)


# --- Exact string matching --------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param(MOBILE_CALLBACK + "?x=1", id="added-query"),
        pytest.param(MOBILE_CALLBACK + "?", id="empty-query"),
        pytest.param(MOBILE_CALLBACK + "#frag", id="fragment"),
        pytest.param(MOBILE_CALLBACK + "#", id="empty-fragment"),
        pytest.param(MOBILE_CALLBACK + "/", id="trailing-slash"),
        pytest.param(MOBILE_CALLBACK + "/evil", id="path-suffix"),
        pytest.param(MOBILE_CALLBACK + "evil", id="path-extended"),
        pytest.param(MOBILE_CALLBACK + "/..", id="dot-dot"),
        pytest.param(MOBILE_CALLBACK + "/%2e%2e/", id="encoded-traversal"),
        pytest.param(MOBILE_CALLBACK + "%2F..%2Fevil", id="encoded-slash"),
        pytest.param(MOBILE_CALLBACK + ";x=1", id="path-params"),
        pytest.param("com.abcinc.timesheets://callback@evil.example", id="userinfo"),
        pytest.param(WEB_CALLBACK + "?x=1", id="web-added-query"),
        pytest.param(WEB_CALLBACK + "?", id="web-empty-query"),
        pytest.param(WEB_CALLBACK + "#x", id="web-fragment"),
        pytest.param(WEB_CALLBACK + "/", id="web-trailing-slash"),
        pytest.param(WEB_CALLBACK + "/../admin", id="web-dot-dot"),
        pytest.param("https://rp.example.test/%63allback", id="web-encoded-char"),
        pytest.param("https://rp.example.test/x/%2e%2e/callback", id="web-encoded-traversal"),
        pytest.param("https://rp.example.test/Callback", id="web-path-case"),
        pytest.param("https://rp.example.test.evil.com/callback", id="lookalike-host"),
        pytest.param("https://rp.example.test@evil.com/callback", id="userinfo-host"),
        pytest.param("https://evil.com/callback?https://rp.example.test/callback", id="registered-in-query"),
        pytest.param("http://rp.example.test/callback", id="http-downgrade"),
        pytest.param("https://rp.example.test:443/callback", id="explicit-port"),
        pytest.param("https://rp.example.test:8443/callback", id="other-port"),
        pytest.param("//rp.example.test/callback", id="scheme-relative"),
        pytest.param("https:/rp.example.test/callback", id="one-slash"),
        pytest.param(" " + WEB_CALLBACK, id="leading-space"),
        pytest.param(WEB_CALLBACK + "%00", id="nul"),
    ],
)
def test_redirect_uris_match_exactly(public_client, web_client, user_client, redirect_uri):
    client_id = web_client[0].client_id if "rp.example.test" in redirect_uri else public_client.client_id
    assert_no_redirect(user_client.get(_authorize(client_id, redirect_uri=redirect_uri)))


def test_the_registered_web_callback_works(web_client, user_client):
    response = consent(user_client, _authorize(web_client[0].client_id, redirect_uri=WEB_CALLBACK))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(WEB_CALLBACK + "?code=")


# --- Loopback (RFC 8252 §7.3) -----------------------------------------------------------------


@pytest.mark.parametrize("port", ["", ":1", ":8080", ":51234", ":65535"])
def test_loopback_accepts_any_port(public_client, user_client, port):
    callback = f"http://127.0.0.1{port}/callback"
    response = consent(user_client, _authorize(public_client.client_id, redirect_uri=callback))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(callback + "?")
    assert query_lists(response)["code"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param("http://127.0.0.1:8080/other", id="different-path"),
        pytest.param("http://127.0.0.1:8080/callback/", id="trailing-slash"),
        pytest.param("http://127.0.0.1:8080/callback?x=1", id="added-query"),
        pytest.param("http://127.0.0.1:8080/callback#x", id="fragment"),
        pytest.param("http://localhost:8080/callback", id="localhost"),
        pytest.param("http://127.0.0.1:80@evil.example/callback", id="userinfo-trick"),
        pytest.param("http://127.0.0.1@evil.example/callback", id="userinfo-no-port"),
        pytest.param("http://127.000.000.001/callback", id="zero-padded"),
        pytest.param("http://127.0.0.2/callback", id="other-loopback"),
        pytest.param("http://2130706433/callback", id="decimal-ip"),
        pytest.param("http://0x7f000001/callback", id="hex-ip"),
        pytest.param("http://[::1]:8080/callback", id="ipv6-not-registered"),
        pytest.param("https://127.0.0.1/callback", id="https-scheme"),
        pytest.param("http://127.0.0.1:abc/callback", id="bad-port"),
        pytest.param("http://127.0.0.1.evil.example/callback", id="lookalike-host"),
    ],
)
def test_loopback_refuses_everything_else(public_client, user_client, redirect_uri):
    assert_no_redirect(user_client.get(_authorize(public_client.client_id, redirect_uri=redirect_uri)))


# --- Private-use schemes ----------------------------------------------------------------------


def test_the_registered_private_use_scheme_works(public_client, user_client):
    response = consent(user_client, _authorize(public_client.client_id, redirect_uri=MOBILE_CALLBACK))
    assert response["Location"].startswith(MOBILE_CALLBACK + "?code=")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param("com.abcinc.timesheets://callback/extra", id="path-suffix"),
        pytest.param("com.abcinc.timesheets.evil://callback", id="longer-scheme"),
        pytest.param("com.abcinc.timesheetsx://callback", id="scheme-suffix"),
        pytest.param("xcom.abcinc.timesheets://callback", id="scheme-prefix"),
        pytest.param("com.abcinc://callback", id="shorter-scheme"),
        pytest.param("com.abcinc.timesheets:/callback", id="single-slash"),
        pytest.param(OTHER_CALLBACK, id="another-apps-scheme"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("javascript://callback/%0aalert(1)", id="javascript-authority"),
        pytest.param("data:text/html,<script>alert(1)</script>", id="data"),
        pytest.param("vbscript:msgbox(1)", id="vbscript"),
        pytest.param("file:///etc/passwd", id="file"),
    ],
)
def test_private_use_schemes_refuse_everything_else(
    public_client, other_public_client, user_client, redirect_uri
):
    assert_no_redirect(user_client.get(_authorize(public_client.client_id, redirect_uri=redirect_uri)))


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:text/html,hi", "JavaScript:alert(1)"])
def test_dangerous_schemes_are_refused_at_registration(public_client, uri):
    with pytest.raises(ValidationError):
        client_create(app_type=Client.AppType.NATIVE, name="Evil", redirect_uris=[uri])
    with pytest.raises(ValidationError):
        client_update(client=public_client, redirect_uris=[MOBILE_CALLBACK, uri])
    public_client.refresh_from_db()
    assert uri not in public_client.redirect_uris


# --- Repeated parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "repeat",
    [
        pytest.param(("redirect_uri", "https://evil.example/cb"), id="redirect_uri-evil-second"),
        pytest.param(("redirect_uri", MOBILE_CALLBACK), id="redirect_uri-same-twice"),
        pytest.param(("redirect_uri", LOOPBACK_CALLBACK), id="redirect_uri-other-registered"),
        pytest.param(("client_id", "test-other"), id="client_id-other-client"),
        pytest.param(("client_id", "test-mobile"), id="client_id-same-twice"),
    ],
)
def test_a_repeated_parameter_is_invalid_request_without_redirect(
    public_client, other_public_client, user_client, repeat
):
    response = user_client.get(_raw_authorize([*_pkce_pairs(public_client.client_id), repeat]))
    assert_no_redirect(response)
    assert b"invalid_request" in response.content


def test_a_repeated_redirect_uri_is_refused_with_the_evil_one_first(public_client, user_client):
    pairs = _pkce_pairs(public_client.client_id)
    pairs.insert(2, ("redirect_uri", "https://evil.example/cb"))
    assert_no_redirect(user_client.get(_raw_authorize(pairs)))


# --- Response types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response_type",
    [
        "token",
        "id_token",
        "code id_token",
        "code token",
        "code id_token token",
        "id_token token",
        "none",
        "token code",
        "CODE",
        "code code",
    ],
)
def test_only_response_type_code_is_served(public_client, user_client, response_type):
    response = user_client.get(_authorize(public_client.client_id, response_type=response_type))
    assert response.status_code == HTTPStatus.FOUND
    location = response["Location"]
    for leaked in TOKEN_LIKE:
        assert leaked not in location
    assert "#" not in location
    params = query_lists(response)
    assert params["error"] == ["unsupported_response_type"]
    assert params["iss"] == [ISSUER]


@pytest.mark.parametrize("response_mode", ["fragment", "form_post", "web_message"])
def test_the_code_never_travels_in_a_response_mode_not_advertised(public_client, user_client, response_mode):
    response = consent(user_client, _authorize(public_client.client_id, response_mode=response_mode))
    # Either refused, or answered in the query as advertised: never a fragment or a form post.
    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST}
    assert "#" not in response.get("Location", "")


# --- iss and state on every response ----------------------------------------------------------


def _deny(http: HttpClient, client_id: str, **params):
    page = http.get(_authorize(client_id, **params))
    return http.post("/authorize", consent_fields(page))  # no "allow"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        pytest.param(lambda http, cid: consent(http, _authorize(cid, state="S")), None, id="success"),
        pytest.param(lambda http, cid: _deny(http, cid, state="S"), "access_denied", id="access-denied"),
        pytest.param(
            lambda http, cid: http.get(authorize_url(cid, None, state="S")), "invalid_request", id="no-pkce"
        ),
        pytest.param(
            lambda http, cid: http.get(_authorize(cid, state="S", response_type="token")),
            "unsupported_response_type",
            id="unsupported-response-type",
        ),
        pytest.param(
            lambda http, cid: http.get(_authorize(cid, state="S", audience="https://unknown.example/api")),
            "invalid_target",
            id="unknown-audience",
        ),
        pytest.param(
            lambda http, cid: http.get(_authorize(cid, state="S", prompt="none")),
            "consent_required",
            id="consent-required",
        ),
        pytest.param(
            lambda http, cid: HttpClient().get(_authorize(cid, state="S", prompt="none")),
            "login_required",
            id="login-required",
        ),
    ],
)
def test_iss_and_state_are_on_every_authorization_response(
    public_client, user_client, timesheets_api, make, error
):
    response = make(user_client, public_client.client_id)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(MOBILE_CALLBACK + "?")
    params = query_lists(response)
    assert params["iss"] == [ISSUER]  # once, and byte for byte
    assert params["state"] == ["S"]
    if error is None:
        assert "error" not in params
    else:
        assert params["error"] == [error]
        assert "code" not in params


@pytest.mark.parametrize(
    "state",
    [
        pytest.param("a b+c/d?e=f&g=%41;h#i", id="reserved-characters"),
        pytest.param("ünïcødé-✓-😀", id="unicode"),
        pytest.param("'\"<script>alert(1)</script>", id="markup"),
        pytest.param("x" * 2000, id="2000-characters"),
        pytest.param("".join(chr(c) for c in range(0x21, 0x7F)) * 21, id="2000-printable-ascii"),
    ],
)
def test_state_is_echoed_byte_for_byte(public_client, user_client, state):
    response = consent(user_client, _authorize(public_client.client_id, state=state))
    assert response.status_code == HTTPStatus.FOUND
    assert query_lists(response)["state"] == [state]
    assert query_lists(response)["code"]


def test_state_is_echoed_byte_for_byte_on_errors_too(public_client, user_client):
    state = "é&=" + "y" * 1997
    response = _deny(user_client, public_client.client_id, state=state)
    assert query_lists(response)["state"] == [state]
    assert query_lists(response)["error"] == ["access_denied"]


# --- Authentication and consent before anything is sent ---------------------------------------


def test_nothing_is_sent_to_the_client_before_the_user_signed_in(public_client):
    response = HttpClient().get(_authorize(public_client.client_id))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


def test_a_first_party_client_still_waits_for_the_sign_in(user, timesheets_api):
    client, _ = client_create(
        app_type=Client.AppType.NATIVE, name="First", redirect_uris=[MOBILE_CALLBACK], first_party=True
    )
    response = HttpClient().get(_authorize(client.client_id, audience=TIMESHEETS_API))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


def test_an_anonymous_consent_post_issues_no_code(public_client, user_client):
    fields = consent_fields(user_client.get(_authorize(public_client.client_id)))
    response = HttpClient().post("/authorize", {**fields, "allow": "Authorize"})
    assert not response.get("Location", "").startswith(MOBILE_CALLBACK)
    assert "code=" not in response.get("Location", "")


def test_a_public_client_gets_the_consent_screen_the_first_time(public_client, user_client):
    response = user_client.get(_authorize(public_client.client_id))
    assert response.status_code == HTTPStatus.OK
    assert b'id="authorizationForm"' in response.content
    assert public_client.name.encode() in response.content


def test_the_consent_post_is_csrf_protected(public_client, user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    page = http.get(_authorize(public_client.client_id))
    fields = {**consent_fields(page), "allow": "Authorize"}

    forged = http.post("/authorize", fields)  # no csrfmiddlewaretoken: a cross-site form
    assert forged.status_code == HTTPStatus.FORBIDDEN
    assert "Location" not in forged

    token = page.cookies["csrftoken"].value
    allowed = http.post("/authorize", {**fields, "csrfmiddlewaretoken": token})
    assert allowed.status_code == HTTPStatus.FOUND
    assert allowed["Location"].startswith(MOBILE_CALLBACK + "?code=")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("redirect_uri", "https://evil.example/cb"),
        ("redirect_uri", OTHER_CALLBACK),
        ("client_id", "test-other"),
    ],
)
def test_a_tampered_consent_post_sends_nothing_to_a_foreign_callback(
    public_client, other_public_client, user_client, field, value
):
    fields = consent_fields(user_client.get(_authorize(public_client.client_id)))
    response = user_client.post("/authorize", {**fields, field: value, "allow": "Authorize"})
    location = response.get("Location", "")
    assert "code=" not in location
    assert not location.startswith(("https://evil.example", OTHER_CALLBACK))


# --- Headers on /authorize and the login page -------------------------------------------------


def _csp(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0].lower(): (d[1] if len(d) > 1 else "") for d in directives}


@pytest.fixture(params=["authorize", "login"])
def sign_in_page(request, public_client, user_client):
    if request.param == "authorize":
        response = user_client.get(_authorize(public_client.client_id))
    else:
        response = HttpClient().get("/login/")
    assert response.status_code == HTTPStatus.OK
    return response


def test_sign_in_pages_cannot_be_framed(sign_in_page):
    assert sign_in_page["X-Frame-Options"] == "DENY"
    assert _csp(sign_in_page).get("frame-ancestors") == "'none'"


@pytest.mark.xfail(
    reason="Referrer-Policy is same-origin, not the catalogue's no-referrer (config/settings/base.py: "
    "no-referrer makes browsers send Origin: null, which Django's CSRF check refuses)",
    strict=True,
)
def test_sign_in_pages_send_no_referrer(sign_in_page):
    assert sign_in_page["Referrer-Policy"] == "no-referrer"


def test_sign_in_pages_never_send_their_url_to_another_site(sign_in_page):
    # The authorization request (state, code_challenge) must not leak through Referer.
    assert sign_in_page["Referrer-Policy"] in {"no-referrer", "same-origin"}


@pytest.mark.parametrize("path", ["/authorize", "/login/"])
def test_sign_in_pages_allow_no_cors(public_client, user_client, path):
    url = _authorize(public_client.client_id) if path == "/authorize" else path
    response = user_client.get(url, HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response
    preflight = user_client.options(
        url, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def test_after_the_password_post_the_browser_is_redirected_with_302_or_303(public_client, user, password):
    http = HttpClient()
    url = _authorize(public_client.client_id)
    login = http.get(url)["Location"]
    response = http.post(login, {"username": user.email, "password": password})
    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.SEE_OTHER}
    assert response.status_code != HTTPStatus.TEMPORARY_REDIRECT
    assert response["Location"] == url


def test_after_the_consent_post_the_browser_is_redirected_with_302_or_303(public_client, user_client):
    response = consent(user_client, _authorize(public_client.client_id))
    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.SEE_OTHER}


# --- prompt=none ------------------------------------------------------------------------------


def test_prompt_none_without_a_session_is_login_required_never_the_login_page(public_client):
    response = HttpClient().get(_authorize(public_client.client_id, prompt="none", state="pn"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(MOBILE_CALLBACK + "?")
    params = query_lists(response)
    assert params["error"] == ["login_required"]
    assert params["state"] == ["pn"]
    assert params["iss"] == [ISSUER]
    assert "code" not in params


@pytest.mark.parametrize("header", ["HTTP_X_ABC_SESSION_USER", "X-Abc-Session-User"])
def test_prompt_none_cannot_be_told_who_is_signed_in_by_a_header(public_client, user, header):
    """Who is signed in comes from the session alone, whatever a client sends."""
    consent_for_user = HttpClient()
    consent_for_user.force_login(user)
    consent(consent_for_user, _authorize(public_client.client_id, scope="openid"))

    forged: dict[str, Any] = {header: str(user.pk)}
    response = HttpClient().get(_authorize(public_client.client_id, scope="openid", prompt="none"), **forged)
    assert query_lists(response)["error"] == ["login_required"]
    assert "code" not in query_lists(response)


def test_prompt_none_with_a_session_but_no_consent_is_consent_required(public_client, user_client):
    response = user_client.get(_authorize(public_client.client_id, prompt="none"))
    assert query_lists(response)["error"] == ["consent_required"]
    assert "code" not in query_lists(response)


def test_prompt_none_with_remembered_consent_issues_a_code_silently(public_client, user_client):
    consent(user_client, _authorize(public_client.client_id, scope="openid"))
    response = user_client.get(_authorize(public_client.client_id, scope="openid", prompt="none"))
    assert response.status_code == HTTPStatus.FOUND
    assert query_lists(response)["code"]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"redirect_uri": "https://evil.example/cb"}, id="foreign-redirect-uri"),
        pytest.param({"client_id": "no-such-client"}, id="unknown-client"),
    ],
)
def test_prompt_none_never_redirects_to_an_unverified_callback(public_client, params):
    params = {"client_id": public_client.client_id, **params}
    response = HttpClient().get(_authorize(params.pop("client_id"), prompt="none", **params))
    assert_no_redirect(response)


def test_prompt_none_combined_with_login_is_invalid_request_not_a_code(public_client, user_client):
    response = user_client.get(_authorize(public_client.client_id, prompt="none login"))
    assert response.status_code == HTTPStatus.FOUND
    params = query_lists(response)
    assert params["error"] == ["invalid_request"]  # OIDC Core 3.1.2.1: none stands alone
    assert params["iss"] == [ISSUER]
    assert "code" not in params


# --- prompt=login and max_age -----------------------------------------------------------------


def _browse(http: HttpClient, url: str, user: User, password: str) -> tuple[HttpResponseBase, int]:
    """Follow the flow like a browser: sign in when asked, allow when asked.

    Returns the redirect to the client and how many times the password was asked for.
    """
    logins = 0
    response = http.get(url)
    for _ in range(10):
        if response.status_code == HTTPStatus.FOUND:
            location = response["Location"]
            if not location.startswith("/"):
                return response, logins
            url = location
            response = http.get(url)
        elif response.status_code == HTTPStatus.OK and urlsplit(url).path == "/login/":
            logins += 1
            response = http.post(url, {"username": user.email, "password": password})
        elif response.status_code == HTTPStatus.OK and "form" in (response.context or {}):
            response = http.post("/authorize", {**consent_fields(response), "allow": "Authorize"})
        else:
            raise AssertionError(f"unexpected {response.status_code} at {url}")
    raise AssertionError("the flow did not end")


def _signed_in_long_ago(user: User, password: str) -> HttpClient:
    http = HttpClient()
    assert (
        http.post("/login/", {"username": user.email, "password": password}).status_code == HTTPStatus.FOUND
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(minutes=10))
    return http


def _auth_time(http: HttpClient, client_id: str, pkce: Pkce, redirect) -> int:
    code = query_lists(redirect)["code"][0]
    tokens = exchange(http, client_id, code, pkce.verifier)
    assert tokens.status_code == HTTPStatus.OK, tokens.content
    return jwt_parts(tokens.json()["id_token"])[1]["auth_time"]


def test_without_prompt_the_session_is_reused(public_client, user, password):
    http = _signed_in_long_ago(user, password)
    pkce = Pkce.new()
    redirect, logins = _browse(http, authorize_url(public_client.client_id, pkce), user, password)
    assert logins == 0
    assert _auth_time(http, public_client.client_id, pkce, redirect) < time.time() - 300


@pytest.mark.parametrize(
    "params",
    [pytest.param({"prompt": "login"}, id="prompt-login"), pytest.param({"max_age": "60"}, id="max-age")],
)
def test_prompt_login_and_max_age_force_a_new_sign_in_and_auth_time_moves_forward(
    public_client, user, password, params
):
    http = _signed_in_long_ago(user, password)
    pkce = Pkce.new()
    redirect, logins = _browse(http, authorize_url(public_client.client_id, pkce, **params), user, password)
    assert logins == 1, "the password was not asked for again"
    assert redirect["Location"].startswith(MOBILE_CALLBACK + "?")
    assert _auth_time(http, public_client.client_id, pkce, redirect) >= time.time() - 60


def test_max_age_within_the_session_age_does_not_ask_again(public_client, user, password):
    http = _signed_in_long_ago(user, password)
    pkce = Pkce.new()
    redirect, logins = _browse(
        http, authorize_url(public_client.client_id, pkce, max_age="3600"), user, password
    )
    assert logins == 0
    assert query_lists(redirect)["code"]
