"""How the person signed in, in the protocol: amr/acr/auth_time in ID tokens, step-up at
/authorize (acr_values, claims, the application, the policy, rules), refreshes that keep
the sign-in or are refused, discovery, and the token preview."""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client as HttpClient

from accounts.mfa.context import (
    ACR_MFA,
    ACR_PASSWORD,
    ACR_PHISHING_RESISTANT,
    ACR_VALUES,
    AUTH_TIME_KEY,
    METHODS_KEY,
    MULTI_FACTOR,
    ONE_TIME_CODE,
    PASSWORD,
    SOFTWARE_KEY,
)
from accounts.models import User
from authz.rules import RuleContext
from tests.accounts.mfa_helpers import ALWAYS, NEVER, code_for, confirmed_device, steady_step
from tests.oauth import (
    ISSUER,
    MOBILE_CALLBACK,
    TIMESHEETS_API,
    Pkce,
    authorize_url,
    consent,
    consent_fields,
    exchange,
    jwks,
    redirect_params,
    verify,
)

pytestmark = pytest.mark.django_db

PWD_OTP = [PASSWORD, ONE_TIME_CODE, MULTI_FACTOR]
SEEN_METHODS: list[list[dict[str, str]]] = []


def mfa_for_read_timesheets(context: RuleContext) -> None:
    """Reading timesheets needs a second factor."""
    SEEN_METHODS.append(context.authentication.methods)
    if "read:timesheets" in context.requested_scopes:
        context.require_mfa()


@pytest.fixture
def with_mfa_rule(settings):
    SEEN_METHODS.clear()
    settings.AUTHZ_RULES = [*settings.AUTHZ_RULES, "tests.authz.test_amr_acr.mfa_for_read_timesheets"]


def _signed_in(user: User, methods: list[str], *, ago: int = 0) -> HttpClient:
    """A browser whose session signed ``user`` in by ``methods``, ``ago`` seconds ago."""
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[METHODS_KEY] = methods
    session[AUTH_TIME_KEY] = int(time.time()) - ago
    session.save()
    return http


def _tokens(http: HttpClient, client_id: str, **params: str) -> dict:
    pkce = Pkce.new()
    response = consent(http, authorize_url(client_id, pkce, **params))
    assert response.status_code == HTTPStatus.FOUND, response.content
    code = redirect_params(response)["code"]
    tokens = exchange(http, client_id, code, pkce.verifier)
    assert tokens.status_code == HTTPStatus.OK, tokens.content
    return tokens.json()


def _id_token(http: HttpClient, body: dict, client_id: str) -> dict:
    return verify(body["id_token"], jwks(http), iss=ISSUER, aud=client_id)


def _refresh(client_id: str, refresh_token: str):
    return HttpClient().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def _query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


# --- The ID token states the session's sign-in ---------------------------------------------


def test_id_token_states_amr_acr_and_the_sessions_auth_time_and_a_refresh_keeps_them(
    public_client, user, timesheets_api
):
    http = _signed_in(user, PWD_OTP, ago=120)
    signed_in_at = int(time.time()) - 120
    body = _tokens(
        http, public_client.client_id, scope="openid offline_access read:timesheets", audience=TIMESHEETS_API
    )
    claims = _id_token(http, body, public_client.client_id)
    assert claims["amr"] == PWD_OTP
    assert claims["acr"] == ACR_MFA
    assert abs(claims["auth_time"] - signed_in_at) <= 1  # the session's, not last_login (now)

    # The session signs out: the refresh family still states the sign-in it began with.
    http.logout()
    refreshed = _refresh(public_client.client_id, body["refresh_token"])
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content
    again = _id_token(http, refreshed.json(), public_client.client_id)
    for name in ("amr", "acr", "auth_time"):
        assert again[name] == claims[name], name
    # ... and so does the next one, from the rotated token.
    third = _refresh(public_client.client_id, refreshed.json()["refresh_token"]).json()
    assert _id_token(http, third, public_client.client_id)["amr"] == PWD_OTP


def test_a_session_from_before_methods_were_recorded_is_a_password_sign_in(public_client, user_client, user):
    claims = _id_token(user_client, _tokens(user_client, public_client.client_id), public_client.client_id)
    assert claims["amr"] == [PASSWORD]
    assert claims["acr"] == ACR_PASSWORD
    user.refresh_from_db()
    assert claims["auth_time"] == int(user.last_login.timestamp())


def test_a_password_sign_in_never_gets_the_mfa_acr(public_client, user):
    http = _signed_in(user, [PASSWORD])
    claims = _id_token(http, _tokens(http, public_client.client_id), public_client.client_id)
    assert claims["amr"] == [PASSWORD]
    assert claims["acr"] == ACR_PASSWORD
    # Asking for it without a chance to step up (prompt=none) is refused, never granted.
    response = http.get(authorize_url(public_client.client_id, Pkce.new(), acr_values=ACR_MFA, prompt="none"))
    assert redirect_params(response)["error"] == "interaction_required"


def test_a_client_cannot_put_a_sign_in_in_the_claims_request(public_client, user):
    http = _signed_in(user, [PASSWORD])
    forged = {"abc_sign_in": {"amr": ["pwd", "hwk", "mfa"], "acr": ACR_PHISHING_RESISTANT, "auth_time": 1}}
    body = _tokens(http, public_client.client_id, claims=json.dumps(forged))
    claims = _id_token(http, body, public_client.client_id)
    assert claims["amr"] == [PASSWORD]
    assert claims["acr"] == ACR_PASSWORD
    assert claims["auth_time"] > 1


# --- Step-up at /authorize ------------------------------------------------------------------


def test_acr_values_send_a_password_session_to_verify_and_back(public_client, user):
    confirmed_device(user)
    http = _signed_in(user, [PASSWORD])
    url = authorize_url(public_client.client_id, Pkce.new(), acr_values=f"urn:unknown {ACR_MFA}")
    response = http.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/verify/?")
    assert _query(response["Location"]) == {"next": url, "acr": ACR_MFA}


def test_after_the_step_up_the_same_request_gets_a_code_stating_mfa(public_client, user):
    confirmed_device(user)
    http = _signed_in(user, PWD_OTP)
    body = _tokens(http, public_client.client_id, acr_values=f"{ACR_PHISHING_RESISTANT} {ACR_MFA}")
    claims = _id_token(http, body, public_client.client_id)
    assert claims["acr"] == ACR_MFA  # the first requested value met, in the client's order
    assert claims["amr"] == PWD_OTP


def test_a_person_without_a_factor_is_sent_to_enrol(public_client, user):
    http = _signed_in(user, [PASSWORD])
    url = authorize_url(public_client.client_id, Pkce.new(), acr_values=ACR_MFA)
    response = http.get(url)
    assert response["Location"].startswith("/login/enrol/?")
    assert _query(response["Location"]) == {"next": url}


def test_prompt_none_that_needs_a_step_up_is_interaction_required(public_client, user):
    confirmed_device(user)
    _tokens(_signed_in(user, PWD_OTP), public_client.client_id)  # consented: only the sign-in falls short
    http = _signed_in(user, [PASSWORD])
    url = authorize_url(public_client.client_id, Pkce.new(), acr_values=ACR_MFA, prompt="none", state="S")
    response = http.get(url)
    assert response["Location"].startswith(MOBILE_CALLBACK + "?")
    params = redirect_params(response)
    assert params["error"] == "interaction_required"
    assert params["state"] == "S"
    assert params["iss"] == ISSUER
    assert "code" not in params


def test_unknown_acr_values_are_ignored(public_client, user):
    http = _signed_in(user, [PASSWORD])
    claims = _id_token(
        http, _tokens(http, public_client.client_id, acr_values="urn:other:gold"), public_client.client_id
    )
    assert claims["acr"] == ACR_PASSWORD


def test_an_essential_acr_claim_steps_up_to_its_value(public_client, user):
    confirmed_device(user)
    http = _signed_in(user, PWD_OTP)
    request = {"id_token": {"acr": {"essential": True, "values": [ACR_PHISHING_RESISTANT]}}}
    url = authorize_url(public_client.client_id, Pkce.new(), claims=json.dumps(request))
    response = http.get(url)
    assert response["Location"].startswith("/login/verify/?")
    assert _query(response["Location"])["acr"] == ACR_PHISHING_RESISTANT


def test_an_essential_acr_claim_met_is_stated(public_client, user):
    http = _signed_in(user, PWD_OTP)
    request = {"id_token": {"acr": {"essential": True, "values": [ACR_MFA]}}}
    body = _tokens(http, public_client.client_id, claims=json.dumps(request))
    assert _id_token(http, body, public_client.client_id)["acr"] == ACR_MFA


def test_an_essential_acr_we_do_not_offer_is_unmet_authentication_requirements(public_client, user):
    http = _signed_in(user, PWD_OTP)
    request = {"id_token": {"acr": {"essential": True, "value": "urn:other:gold"}}}
    response = http.get(
        authorize_url(public_client.client_id, Pkce.new(), claims=json.dumps(request), state="E")
    )
    params = redirect_params(response)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == "E"
    assert "code" not in params


def test_an_application_that_requires_mfa_steps_up(public_client, user):
    public_client.require_mfa = True
    public_client.save()
    confirmed_device(user)
    response = _signed_in(user, [PASSWORD]).get(authorize_url(public_client.client_id, Pkce.new()))
    assert _query(response["Location"])["acr"] == ACR_MFA
    # With a second factor, the same application goes on.
    assert _tokens(_signed_in(user, PWD_OTP), public_client.client_id)["id_token"]


def test_the_mfa_policy_steps_up(public_client, user, settings):
    settings.MFA_POLICY = ALWAYS
    response = _signed_in(user, [PASSWORD]).get(authorize_url(public_client.client_id, Pkce.new()))
    assert response["Location"].startswith("/login/enrol/?")


def test_a_forged_acr_on_the_verify_page_does_not_lower_the_need(public_client, user):
    device = confirmed_device(user)
    http = _signed_in(user, [PASSWORD])
    url = authorize_url(public_client.client_id, Pkce.new(), acr_values=ACR_PHISHING_RESISTANT)
    assert _query(http.get(url)["Location"])["acr"] == ACR_PHISHING_RESISTANT
    # The person edits the link to ask for less than a passkey, and proves a code instead.
    steady_step()
    forged = "/login/verify/?" + urlencode({"next": url, "acr": ACR_PASSWORD})
    back = http.post(forged, {"factor": "totp", "code": code_for(device)})
    assert back.status_code == HTTPStatus.FOUND
    assert back["Location"] == url
    # /authorize asks again: a code is not a passkey.
    again = http.get(url)
    assert again["Location"].startswith("/login/verify/?")
    assert _query(again["Location"])["acr"] == ACR_PHISHING_RESISTANT


# --- max_age reads the session's sign-in ------------------------------------------------------


def test_max_age_counts_from_the_sessions_sign_in(public_client, user):
    http = _signed_in(user, [PASSWORD], ago=600)  # last_login is now: the session is older
    response = http.get(authorize_url(public_client.client_id, Pkce.new(), max_age="60"))
    assert response["Location"].startswith("/login/?next=")
    silent = http.get(authorize_url(public_client.client_id, Pkce.new(), max_age="60", prompt="none"))
    assert redirect_params(silent)["error"] == "login_required"
    assert _signed_in(user, [PASSWORD], ago=10).get(
        authorize_url(public_client.client_id, Pkce.new(), max_age="60")
    ).status_code in (HTTPStatus.OK, HTTPStatus.FOUND)


# --- Rules ----------------------------------------------------------------------------------


def test_a_rule_sees_the_methods_and_may_require_mfa(public_client, user, timesheets_api, with_mfa_rule):
    confirmed_device(user)
    url = authorize_url(
        public_client.client_id, Pkce.new(), scope="openid read:timesheets", audience=TIMESHEETS_API
    )
    response = _signed_in(user, [PASSWORD]).get(url)
    assert _query(response["Location"]) == {"next": url, "acr": ACR_MFA}
    assert SEEN_METHODS[-1] == [{"name": PASSWORD}]

    http = _signed_in(user, PWD_OTP)
    body = _tokens(http, public_client.client_id, scope="openid read:timesheets", audience=TIMESHEETS_API)
    assert _id_token(http, body, public_client.client_id)["acr"] == ACR_MFA
    # At the token endpoint the rules see the code's sign-in.
    assert SEEN_METHODS[-1] == [{"name": method} for method in PWD_OTP]


def test_a_refresh_whose_sign_in_falls_short_of_a_rule_is_invalid_grant(
    public_client, user, timesheets_api, settings
):
    http = _signed_in(user, [PASSWORD])
    scope = "openid offline_access read:timesheets"
    body = _tokens(http, public_client.client_id, scope=scope, audience=TIMESHEETS_API)
    strong = _tokens(_signed_in(user, PWD_OTP), public_client.client_id, scope=scope, audience=TIMESHEETS_API)

    settings.AUTHZ_RULES = [*settings.AUTHZ_RULES, "tests.authz.test_amr_acr.mfa_for_read_timesheets"]
    refused = _refresh(public_client.client_id, body["refresh_token"])
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["error"] == "invalid_grant"
    assert "second factor" in refused.json()["error_description"]
    assert "access_token" not in refused.json()
    # A family that signed in with a second factor refreshes as before.
    assert _refresh(public_client.client_id, strong["refresh_token"]).status_code == HTTPStatus.OK


# --- Discovery and the token preview --------------------------------------------------------


def test_discovery_lists_the_acr_values_and_the_claims(client):
    config = client.get("/.well-known/openid-configuration").json()
    assert config["acr_values_supported"] == list(ACR_VALUES)
    assert config["claims_parameter_supported"] is True
    assert {"acr", "amr", "auth_time"} <= set(config["claims_supported"])


def test_the_token_preview_says_when_a_factor_would_be_required(
    staff_client, public_client, user, timesheets_api, settings
):
    query = {"user": user.pk, "client": public_client.pk, "api": timesheets_api.pk, "scopes": "openid"}
    page = staff_client.get("/dashboard/preview/", query)
    assert page.context["preview"].mfa_reasons == []
    assert "Not required" in page.content.decode()

    public_client.require_mfa = True
    public_client.save()
    settings.AUTHZ_RULES = [*settings.AUTHZ_RULES, "tests.authz.test_amr_acr.mfa_for_read_timesheets"]
    page = staff_client.get("/dashboard/preview/", {**query, "scopes": "openid read:timesheets"})
    preview = page.context["preview"]
    assert len(preview.mfa_reasons) == 2
    assert "application" in preview.mfa_reasons[0]
    assert "mfa_for_read_timesheets" in preview.mfa_reasons[1]
    assert preview.mfa_enrol  # no factor yet
    assert "would be asked to set one up first" in page.content.decode()


# --- More of the same rules ------------------------------------------------------------------


def test_a_passkey_sign_in_meets_phr_and_says_which_key(public_client, user):
    http = _signed_in(user, [SOFTWARE_KEY, MULTI_FACTOR])
    body = _tokens(http, public_client.client_id, acr_values=f"{ACR_PHISHING_RESISTANT} {ACR_MFA}")
    claims = _id_token(http, body, public_client.client_id)
    assert claims["acr"] == ACR_PHISHING_RESISTANT
    assert claims["amr"] == [SOFTWARE_KEY, MULTI_FACTOR]


def test_the_consent_answer_steps_up_too_when_the_session_changed_meanwhile(public_client, user):
    confirmed_device(user)
    http = _signed_in(user, PWD_OTP)
    url = authorize_url(public_client.client_id, Pkce.new(), acr_values=ACR_MFA)
    page = http.get(url)
    assert page.status_code == HTTPStatus.OK  # the consent screen
    session = http.session
    session[METHODS_KEY] = [PASSWORD]  # e.g. another tab signed in again with a password
    session.save()
    # The browser posts the form to the page's own URL.
    response = http.post(url, {**consent_fields(page), "allow": "Authorize"})
    assert response["Location"].startswith("/login/verify/?")
    assert _query(response["Location"]) == {"next": url, "acr": ACR_MFA}


def test_a_refresh_after_the_policy_or_the_application_requires_mfa_is_invalid_grant(
    public_client, user, timesheets_api, settings
):
    params = {"scope": "openid offline_access read:timesheets", "audience": TIMESHEETS_API}
    first = _tokens(_signed_in(user, [PASSWORD]), public_client.client_id, **params)
    second = _tokens(_signed_in(user, [PASSWORD]), public_client.client_id, **params)

    settings.MFA_POLICY = ALWAYS
    assert _refresh(public_client.client_id, first["refresh_token"]).json()["error"] == "invalid_grant"
    settings.MFA_POLICY = NEVER
    public_client.require_mfa = True
    public_client.save()
    refused = _refresh(public_client.client_id, second["refresh_token"]).json()
    assert refused["error"] == "invalid_grant"
    assert "application" in refused["error_description"]


def test_a_plain_oauth_request_with_a_claims_parameter_still_gets_its_tokens(
    public_client, user, timesheets_api
):
    # Without openid, oauthlib leaves claims as the string sent: stored and read back whole.
    http = _signed_in(user, [PASSWORD])
    request = json.dumps({"id_token": {"acr": {"essential": True, "values": [ACR_MFA]}}})
    confirmed_device(user)
    url = authorize_url(
        public_client.client_id, Pkce.new(), scope="read:timesheets", audience=TIMESHEETS_API, claims=request
    )
    assert _query(http.get(url)["Location"])["acr"] == ACR_MFA
    body = _tokens(
        _signed_in(user, PWD_OTP),
        public_client.client_id,
        scope="read:timesheets",
        audience=TIMESHEETS_API,
        claims="[1]",
    )
    assert "id_token" not in body
    assert body["access_token"]
