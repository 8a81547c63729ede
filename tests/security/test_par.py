"""Catalogue: pushed authorization requests (RFC 9126).

/oauth/par authenticates the client as the token endpoint does and checks the request as
/authorize would; /authorize takes a request_uri once, for the client that pushed it, and
then uses exactly the pushed parameters through sign-in and consent; one push gives one
answer. An application may require PAR.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from authz.models import PushedAuthorizationRequest
from authz.oauth.par import REQUEST_URI_PREFIX, pushed_requests_purge
from authz.oauth.tasks import clear_expired_tokens
from clients.models import Client
from tests.oauth import (
    ISSUER,
    LOOPBACK_CALLBACK,
    MOBILE_CALLBACK,
    Pkce,
    authorize_url,
    basic_auth,
    consent_fields,
    exchange,
    redirect_params,
)

from .helpers import OTHER_CALLBACK, WEB_CALLBACK, assert_no_redirect, assert_token_error, web_exchange
from .pkjwt import KeyPair, assertion_params, claims_for, key_client

pytestmark = pytest.mark.django_db


def _request(client_id: str, pkce: Pkce | None, **params: str | None) -> dict[str, str]:
    data: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": MOBILE_CALLBACK,
        "scope": "openid profile email",
        "state": "pushed-state",
        "nonce": "pushed-nonce",
    }
    if pkce is not None:
        data |= {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    return {name: value for name, value in (data | params).items() if value is not None}


def _push(client_id: str, pkce: Pkce | None = None, *, auth: str | None = None, **params: str | None):
    data = _request(client_id, pkce, **params)
    if auth is None:
        return HttpClient().post("/oauth/par", data)
    return HttpClient().post("/oauth/par", data, HTTP_AUTHORIZATION=auth)


def _request_uri(response) -> str:
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()["request_uri"]


def _front(client_id: str, request_uri: str, **extra: str) -> str:
    return "/authorize?" + urlencode({"client_id": client_id, "request_uri": request_uri, **extra})


def _answer(http: HttpClient, url: str, allow: bool = True):
    """Load the consent screen at ``url`` and press Allow (or Deny)."""
    page = http.get(url)
    assert page.status_code == HTTPStatus.OK, (page.status_code, page.get("Location"))
    return http.post(url, {**consent_fields(page), **({"allow": "Authorize"} if allow else {})})


def _assert_error_page(response, error: str) -> None:
    assert_no_redirect(response)
    assert response.context["error"]["error"] == error, response.context["error"]


def _taken(http: HttpClient, client_id: str, request_uri: str) -> str:
    """The first visit: the browser is sent to the pushed request itself."""
    response = http.get(_front(client_id, request_uri))
    assert response.status_code == HTTPStatus.FOUND, response.content
    assert response["Location"].startswith("/authorize?")
    return response["Location"]


# --- /oauth/par ---------------------------------------------------------------------------


def test_a_push_answers_201_with_a_single_use_request_uri_for_60_seconds(public_client):
    response = _push(public_client.client_id, Pkce.new())
    assert response.status_code == HTTPStatus.CREATED
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert len(body["request_uri"]) > len(REQUEST_URI_PREFIX) + 40
    row = PushedAuthorizationRequest.objects.get()
    assert row.client == public_client
    assert timedelta(seconds=55) < row.expires_at - timezone.now() <= timedelta(seconds=60)


def test_the_whole_flow_gives_a_code_the_client_redeems_with_its_verifier(public_client, user_client):
    pkce = Pkce.new()
    request_uri = _request_uri(_push(public_client.client_id, pkce))
    expanded = _taken(user_client, public_client.client_id, request_uri)
    answer = _answer(user_client, expanded)
    assert answer["Location"].startswith(MOBILE_CALLBACK + "?")
    params = redirect_params(answer)
    assert params["state"] == "pushed-state"
    assert params["iss"] == ISSUER
    token = exchange(user_client, public_client.client_id, params["code"], pkce.verifier)
    assert token.status_code == HTTPStatus.OK, token.content
    assert not PushedAuthorizationRequest.objects.exists()  # used up by the answer


def test_a_confidential_client_pushes_with_its_registered_method(web_client, user_client):
    client, secret = web_client
    pushed = _push(client.client_id, redirect_uri=WEB_CALLBACK, auth=basic_auth(client.client_id, secret))
    expanded = _taken(user_client, client.client_id, _request_uri(pushed))
    code = redirect_params(_answer(user_client, expanded))["code"]
    assert web_exchange(client.client_id, secret, code).status_code == HTTPStatus.OK


def test_a_json_push_is_read_as_its_form(public_client):
    body = _request(public_client.client_id, Pkce.new())
    response = HttpClient().post("/oauth/par", json.dumps(body), content_type="application/json")
    assert _request_uri(response).startswith(REQUEST_URI_PREFIX)


def test_a_confidential_client_that_does_not_authenticate_is_invalid_client(web_client):
    client, _ = web_client
    assert_token_error(
        _push(client.client_id, redirect_uri=WEB_CALLBACK), "invalid_client", HTTPStatus.UNAUTHORIZED
    )
    assert not PushedAuthorizationRequest.objects.exists()


def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(web_client):
    client, _ = web_client
    response = _push(client.client_id, redirect_uri=WEB_CALLBACK, auth=basic_auth(client.client_id, "wrong"))
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not PushedAuthorizationRequest.objects.exists()


def test_a_method_other_than_the_registered_one_is_invalid_client(web_client):
    client, secret = web_client  # registered for HTTP Basic
    response = _push(client.client_id, redirect_uri=WEB_CALLBACK, client_secret=secret)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_a_private_key_jwt_client_pushes_with_its_assertion(db):
    key = KeyPair.new("ES256")
    client, _ = key_client(Client.AppType.REGULAR_WEB, key, redirect_uris=[WEB_CALLBACK])
    signed = assertion_params(key.sign(claims_for(client.client_id)))
    assert _request_uri(_push(client.client_id, None, redirect_uri=WEB_CALLBACK, **signed))
    names = {name for name, _ in PushedAuthorizationRequest.objects.get().parameters}
    assert not names & {"client_assertion", "client_assertion_type"}
    forged = assertion_params(KeyPair.new("ES256").sign(claims_for(client.client_id)))
    response = _push(client.client_id, None, redirect_uri=WEB_CALLBACK, **forged)
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_an_assertion_may_name_the_par_endpoint_as_its_audience(db):
    """RFC 9126 §2: the issuer, the token endpoint and the PAR endpoint are all audiences
    the server MUST accept; another URL of ours is not."""
    key = KeyPair.new("ES256")
    client, _ = key_client(Client.AppType.REGULAR_WEB, key, redirect_uris=[WEB_CALLBACK])
    to_par = claims_for(client.client_id, aud=f"{settings.OIDC_ISSUER}/oauth/par")
    pushed = _push(client.client_id, None, redirect_uri=WEB_CALLBACK, **assertion_params(key.sign(to_par)))
    assert _request_uri(pushed)
    elsewhere = claims_for(client.client_id, aud=f"{settings.OIDC_ISSUER}/userinfo")
    response = _push(
        client.client_id, None, redirect_uri=WEB_CALLBACK, **assertion_params(key.sign(elsewhere))
    )
    assert_token_error(response, "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_an_unknown_client_is_invalid_client(db):
    assert_token_error(_push("nobody", Pkce.new()), "invalid_client", HTTPStatus.UNAUTHORIZED)


def test_a_client_id_other_than_the_authenticated_client_is_invalid_request(web_client, public_client):
    client, secret = web_client
    response = _push(public_client.client_id, Pkce.new(), auth=basic_auth(client.client_id, secret))
    assert_token_error(response, "invalid_request")


def test_an_unregistered_redirect_uri_is_invalid_request(public_client):
    body = assert_token_error(
        _push(public_client.client_id, Pkce.new(), redirect_uri=OTHER_CALLBACK), "invalid_request"
    )
    assert "redirect" in body["error_description"].lower()
    assert not PushedAuthorizationRequest.objects.exists()


def test_a_public_client_without_pkce_is_invalid_request(public_client):
    body = assert_token_error(_push(public_client.client_id), "invalid_request")
    assert body["error_description"] == "Code challenge required."


def test_a_plain_pkce_challenge_is_invalid_request(public_client):
    pkce = Pkce.new()
    response = _push(public_client.client_id, pkce, code_challenge_method="plain")
    assert_token_error(response, "invalid_request")


def test_another_response_type_is_unsupported(public_client):
    response = _push(public_client.client_id, Pkce.new(), response_type="token")
    assert_token_error(response, "unsupported_response_type")


def test_a_request_uri_inside_a_push_is_invalid_request(public_client):
    first = _request_uri(_push(public_client.client_id, Pkce.new()))
    response = _push(public_client.client_id, Pkce.new(), request_uri=first)
    assert_token_error(response, "invalid_request")
    assert PushedAuthorizationRequest.objects.count() == 1


def test_a_request_object_inside_a_push_is_request_not_supported(public_client):
    assert_token_error(
        _push(public_client.client_id, Pkce.new(), request="e30.e30."), "request_not_supported"
    )


def test_a_malformed_resource_is_invalid_target(public_client):
    assert_token_error(_push(public_client.client_id, Pkce.new(), resource="not a uri"), "invalid_target")


def test_a_repeated_parameter_is_invalid_request(public_client):
    data = {**_request(public_client.client_id, Pkce.new())}
    response = HttpClient().post(
        "/oauth/par", urlencode([*data.items(), ("state", "twice")]), "application/x-www-form-urlencoded"
    )
    assert_token_error(response, "invalid_request")


def test_get_is_405(public_client):
    assert HttpClient().get("/oauth/par").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_secrets_are_not_kept_with_the_pushed_request(web_client):
    client, secret = web_client
    client.token_endpoint_auth_method = client.AuthMethod.POST
    client.save()
    _request_uri(_push(client.client_id, redirect_uri=WEB_CALLBACK, client_secret=secret))
    names = {name for name, _ in PushedAuthorizationRequest.objects.get().parameters}
    assert "client_secret" not in names
    assert "client_id" in names


# --- /authorize ---------------------------------------------------------------------------


def test_front_channel_duplicates_are_ignored(public_client, user_client):
    request_uri = _request_uri(_push(public_client.client_id, Pkce.new()))
    response = user_client.get(
        _front(
            public_client.client_id, request_uri, state="evil", redirect_uri=LOOPBACK_CALLBACK, scope="openid"
        )
    )
    pushed = parse_qs(urlsplit(response["Location"]).query)
    assert pushed["state"] == ["pushed-state"]
    assert pushed["redirect_uri"] == [MOBILE_CALLBACK]
    assert pushed["scope"] == ["openid profile email"]
    answer = _answer(user_client, response["Location"])
    assert redirect_params(answer)["state"] == "pushed-state"
    assert answer["Location"].startswith(MOBILE_CALLBACK + "?")


def test_a_reused_request_uri_is_invalid_request_uri(public_client, user_client):
    request_uri = _request_uri(_push(public_client.client_id, Pkce.new()))
    _taken(user_client, public_client.client_id, request_uri)
    _assert_error_page(user_client.get(_front(public_client.client_id, request_uri)), "invalid_request_uri")
    _assert_error_page(HttpClient().get(_front(public_client.client_id, request_uri)), "invalid_request_uri")


def test_an_expired_request_uri_is_invalid_request_uri(public_client, user_client):
    request_uri = _request_uri(_push(public_client.client_id, Pkce.new()))
    PushedAuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_error_page(user_client.get(_front(public_client.client_id, request_uri)), "invalid_request_uri")


def test_an_unknown_or_malformed_request_uri_is_invalid_request_uri(public_client, user_client):
    for request_uri in (REQUEST_URI_PREFIX + "made-up", "https://rp.example/request.jwt"):
        _assert_error_page(
            user_client.get(_front(public_client.client_id, request_uri)), "invalid_request_uri"
        )


def test_another_clients_request_uri_is_refused_and_left_for_its_own(
    public_client, other_public_client, user_client
):
    request_uri = _request_uri(_push(public_client.client_id, Pkce.new()))
    _assert_error_page(
        user_client.get(_front(other_public_client.client_id, request_uri)), "invalid_request_uri"
    )
    _assert_error_page(
        user_client.get("/authorize?" + urlencode({"request_uri": request_uri})), "invalid_request_uri"
    )
    _taken(user_client, public_client.client_id, request_uri)


def test_one_push_gives_one_answer(public_client, user_client):
    pkce = Pkce.new()
    expanded = _taken(
        user_client, public_client.client_id, _request_uri(_push(public_client.client_id, pkce))
    )
    page = user_client.get(expanded)
    fields = {**consent_fields(page), "allow": "Authorize"}
    assert "code" in redirect_params(user_client.post(expanded, fields))
    # The same screen answered again, or the request reloaded: the push is used up.
    _assert_error_page(user_client.post(expanded, fields), "invalid_request_uri")
    _assert_error_page(user_client.get(expanded), "invalid_request_uri")


def test_denying_uses_the_push_up_too(public_client, user_client):
    expanded = _taken(
        user_client, public_client.client_id, _request_uri(_push(public_client.client_id, Pkce.new()))
    )
    denied = _answer(user_client, expanded, allow=False)
    assert redirect_params(denied)["error"] == "access_denied"
    _assert_error_page(user_client.get(expanded), "invalid_request_uri")


def test_a_changed_request_in_the_browser_is_refused(public_client, user_client):
    expanded = _taken(
        user_client, public_client.client_id, _request_uri(_push(public_client.client_id, Pkce.new()))
    )
    _assert_error_page(user_client.get(expanded.replace("pushed-state", "other-state")), "invalid_request")
    _assert_error_page(user_client.get(expanded + "&login_hint=someone"), "invalid_request")


def test_a_changed_consent_answer_is_refused(public_client, user_client):
    expanded = _taken(
        user_client, public_client.client_id, _request_uri(_push(public_client.client_id, Pkce.new()))
    )
    fields = {**consent_fields(user_client.get(expanded)), "allow": "Authorize"}
    for name, value in (("state", "other"), ("redirect_uri", LOOPBACK_CALLBACK), ("scope", "openid admin")):
        _assert_error_page(user_client.post(expanded, {**fields, name: value}), "invalid_request")
    assert "code" in redirect_params(user_client.post(expanded, fields))


def test_the_request_survives_the_sign_in(public_client, user, password):
    http = HttpClient()
    expanded = _taken(http, public_client.client_id, _request_uri(_push(public_client.client_id, Pkce.new())))
    to_sign_in = http.get(expanded)
    assert to_sign_in.status_code == HTTPStatus.FOUND
    assert to_sign_in["Location"].startswith("/login/")
    http.force_login(user)
    back = parse_qs(urlsplit(to_sign_in["Location"]).query)["next"][0]
    assert "code" in redirect_params(_answer(http, back))


def test_a_pushed_prompt_login_asks_once_and_then_goes_on(public_client, user_client):
    pushed = _push(public_client.client_id, Pkce.new(), prompt="login")
    expanded = _taken(user_client, public_client.client_id, _request_uri(pushed))
    to_sign_in = user_client.get(expanded)
    assert to_sign_in["Location"].startswith("/login/")
    back = parse_qs(urlsplit(to_sign_in["Location"]).query)["next"][0]
    assert "prompt" not in parse_qs(urlsplit(back).query)
    assert "code" in redirect_params(_answer(user_client, back))


def test_a_client_that_requires_par_refuses_a_plain_request(public_client, user_client):
    public_client.require_par = True
    public_client.save()
    response = user_client.get(authorize_url(public_client.client_id, Pkce.new()))
    _assert_error_page(response, "invalid_request")
    assert "pushed authorization requests" in response.context["error"]["description"]


def test_a_client_that_requires_par_refuses_a_forged_consent_answer(public_client, user_client):
    url = authorize_url(public_client.client_id, Pkce.new())
    fields = {**consent_fields(user_client.get(url)), "allow": "Authorize"}
    public_client.require_par = True
    public_client.save()
    _assert_error_page(user_client.post("/authorize", fields), "invalid_request")


def test_a_client_that_requires_par_gets_its_code_through_par(public_client, user_client):
    public_client.require_par = True
    public_client.save()
    pkce = Pkce.new()
    expanded = _taken(
        user_client, public_client.client_id, _request_uri(_push(public_client.client_id, pkce))
    )
    code = redirect_params(_answer(user_client, expanded))["code"]
    assert exchange(user_client, public_client.client_id, code, pkce.verifier).status_code == HTTPStatus.OK


# --- Clean-up and discovery -------------------------------------------------------------------


def test_the_clean_up_forgets_expired_pushed_requests(public_client):
    _push(public_client.client_id, Pkce.new())
    _push(public_client.client_id, Pkce.new())
    PushedAuthorizationRequest.objects.filter(
        pk=PushedAuthorizationRequest.objects.first().pk  # type: ignore[union-attr]
    ).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pushed_requests_purge() == 1
    PushedAuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    clear_expired_tokens()
    assert not PushedAuthorizationRequest.objects.exists()


def test_discovery_names_the_endpoint_and_does_not_require_it(db):
    metadata = HttpClient().get("/.well-known/openid-configuration").json()
    assert metadata["pushed_authorization_request_endpoint"] == f"{ISSUER}/oauth/par"
    assert metadata["require_pushed_authorization_requests"] is False


# --- Under load: two workers, one request_uri ------------------------------------------------

_postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks across connections: runs on PostgreSQL (.ci/run's second pass)",
)


def _in_parallel(count: int, send) -> list:
    """``send()`` in ``count`` threads released at once, each on its own connection."""
    barrier, results, lock = threading.Barrier(count), [], threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            response = send()
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == count, "a request hung or crashed its thread"
    return results


@_postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_visits_take_a_request_uri_once(public_client, user):
    request_uri = _request_uri(_push(public_client.client_id, Pkce.new()))

    def visit():
        http = HttpClient()
        http.force_login(user)
        return http.get(_front(public_client.client_id, request_uri))

    statuses = sorted(response.status_code for response in _in_parallel(4, visit))
    assert statuses == [HTTPStatus.FOUND, *[HTTPStatus.BAD_REQUEST] * 3]


@_postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_answers_give_one_code(public_client, user):
    http = HttpClient()
    http.force_login(user)
    expanded = _taken(http, public_client.client_id, _request_uri(_push(public_client.client_id, Pkce.new())))
    fields = {**consent_fields(http.get(expanded)), "allow": "Authorize"}
    answers = _in_parallel(4, lambda: http.post(expanded, fields))
    codes = [response for response in answers if response.status_code == HTTPStatus.FOUND]
    assert len(codes) == 1
    assert "code" in redirect_params(codes[0])
