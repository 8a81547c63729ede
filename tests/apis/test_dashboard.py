"""The APIs section of the staff dashboard: registry, settings, scopes, signing, quickstart."""

from __future__ import annotations

import html
import re
import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest
from django.test import Client as HttpClient

from apis import services
from apis.models import Api, Scope, SigningKey
from apis.system import MANAGEMENT_API_NAME, MANAGEMENT_SCOPES
from apis.tokens import ApiSigning, mint_access_token

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/dashboard/apis/"}
ISSUER = "http://testserver"


@pytest.fixture
def api() -> Api:
    return services.api_create(
        identifier="https://timesheets.abcinc.example/",
        name="Timesheets",
        scopes={"read:timesheets": "Read timesheets"},
    )


@pytest.fixture
def hs256_api() -> Api:
    return services.api_create(
        identifier="https://legacy.abcinc.example/", name="Legacy", signing_algorithm="HS256"
    )


def _protected(api: Api) -> list[tuple[str, str]]:
    return [
        ("get", "/dashboard/apis/"),
        ("get", "/dashboard/apis/new/"),
        ("post", "/dashboard/apis/new/"),
        ("get", f"/dashboard/apis/{api.pk}/"),
        ("post", f"/dashboard/apis/{api.pk}/settings/"),
        ("post", f"/dashboard/apis/{api.pk}/scopes/"),
        ("get", f"/dashboard/apis/{api.pk}/delete/"),
        ("post", f"/dashboard/apis/{api.pk}/delete/"),
        ("post", f"/dashboard/apis/{api.pk}/signing/key/rotate/"),
    ]


def test_anonymous_users_are_sent_to_login(api):
    for method, path in _protected(api):
        response = getattr(HttpClient(), method)(path, {"value": "write:x", "description": "x"})
        assert response.status_code == HTTPStatus.FOUND, path
        assert response["Location"].startswith("/login/?next="), path
    assert Api.objects.filter(system=False).count() == 1
    assert list(api.scopes.values_list("value", flat=True)) == ["read:timesheets"]


def test_anonymous_htmx_requests_get_a_client_redirect(api):
    response = HttpClient().post(f"/dashboard/apis/{api.pk}/scopes/", {"value": "write:x"}, **HTMX)
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert not Scope.objects.filter(value="write:x").exists()


def test_non_staff_users_are_forbidden(user_client, api):
    for method, path in _protected(api):
        response = getattr(user_client, method)(
            path, {"name": "Hijacked", "value": "write:x", "description": "x"}
        )
        assert response.status_code == HTTPStatus.FORBIDDEN, path
        assert b"timesheets.abcinc.example" not in response.content
    api.refresh_from_db()
    assert api.name == "Timesheets"
    assert Api.objects.filter(system=False).count() == 1
    assert not Scope.objects.filter(value="write:x").exists()


def test_unknown_api_is_404(staff_client, api):
    assert staff_client.get("/dashboard/apis/999999/").status_code == HTTPStatus.NOT_FOUND
    assert staff_client.post("/dashboard/apis/999999/scopes/", {}).status_code == HTTPStatus.NOT_FOUND
    other = services.api_create(identifier="https://other.abcinc.example/", name="Other", scopes={"x:y": "X"})
    # A scope of another API cannot be reached through this one.
    response = staff_client.post(f"/dashboard/apis/{api.pk}/scopes/{other.scopes.get().pk}/delete/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert other.scopes.exists()


def test_list_shows_apis_with_their_scope_count(staff_client, api, hs256_api):
    response = staff_client.get("/dashboard/apis/")
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "https://timesheets.abcinc.example/" in content
    assert "HS256" in content
    assert [(row.name, row.scope_count) for row in response.context["apis"]] == [
        (MANAGEMENT_API_NAME, len(MANAGEMENT_SCOPES)),
        ("Legacy", 0),
        ("Timesheets", 1),
    ]
    assert 'href="/dashboard/apis/new/"' in content


def test_create_api_redirects_to_its_page(staff_client):
    response = staff_client.post(
        "/dashboard/apis/new/",
        {"name": "Payroll", "identifier": "https://payroll.abcinc.example/", "signing_algorithm": "RS256"},
    )
    api = Api.objects.get(identifier="https://payroll.abcinc.example/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/"
    assert api.name == "Payroll"
    assert api.signing_algorithm == Api.Algorithm.RS256
    page = staff_client.get(response["Location"])
    assert "API “Payroll” created." in page.content.decode()


def test_create_form_defaults_to_rs256(staff_client):
    response = staff_client.get("/dashboard/apis/new/")
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"]["signing_algorithm"].value() == "RS256"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "Copy", "identifier": "https://timesheets.abcinc.example/"},
            "identifier",
            "API with this Identifier already exists.",
        ),
        ({"name": "Bad", "identifier": "timesheets"}, "identifier", "Use an absolute URI"),
        ({"name": "Bad", "identifier": "https://x.example/#frag"}, "identifier", "Use an absolute URI"),
        ({"name": "", "identifier": "https://new.abcinc.example/"}, "name", "This field is required."),
    ],
)
def test_create_api_shows_errors_inline_and_creates_nothing(staff_client, api, data, field, message):
    response = staff_client.post("/dashboard/apis/new/", {"signing_algorithm": "RS256", **data})
    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in response.context["form"].errors[field])
    content = html.unescape(response.content.decode())
    assert f'<p class="field-error" id="id_{field}_error">{message}' in content
    assert Api.objects.filter(system=False).count() == 1


def test_settings_update(staff_client, api):
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/settings/",
        {
            "name": "Timesheets v2",
            "token_lifetime": "3600",
            "allow_offline_access": "on",
            "rbac_enabled": "on",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/?tab=settings"
    api.refresh_from_db()
    assert (api.name, api.token_lifetime) == ("Timesheets v2", 3600)
    assert api.allow_offline_access and api.rbac_enabled
    assert not api.add_permissions_claim and not api.allow_skip_consent


def test_identifier_cannot_be_changed_through_the_settings_form(staff_client, api):
    page = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=settings")
    assert re.search(r'<input[^>]*name="identifier"[^>]*disabled', page.content.decode())

    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/settings/",
        {"name": "Renamed", "identifier": "https://evil.example/", "token_lifetime": "600"},
    )
    assert response.status_code == HTTPStatus.FOUND
    api.refresh_from_db()
    assert api.identifier == "https://timesheets.abcinc.example/"
    assert api.name == "Renamed"


@pytest.mark.parametrize(("lifetime", "field"), [("59", "token_lifetime"), ("2592001", "token_lifetime")])
def test_settings_errors_are_inline(staff_client, api, lifetime, field):
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/settings/", {"name": "Renamed", "token_lifetime": lifetime}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.context["settings_form"].errors[field]
    assert f'id="id_{field}_error"' in response.content.decode()
    api.refresh_from_db()
    assert (api.name, api.token_lifetime) == ("Timesheets", 86400)
    assert "<h1>Timesheets</h1>" in response.content.decode()


def test_scopes_tab_lists_the_scopes(staff_client, api):
    response = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=scopes")
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" in content
    assert 'id="api-scopes"' in content
    assert "read:timesheets" in content
    assert f'hx-post="/dashboard/apis/{api.pk}/scopes/"' in content


def test_scope_add_with_htmx_returns_only_the_fragment(staff_client, api):
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/scopes/", {"value": "write:timesheets", "description": "Log hours"}, **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="api-scopes"' not in content  # the swap target stays on the page
    assert "<code>write:timesheets</code>" in content and "<code>read:timesheets</code>" in content
    assert "Scope “write:timesheets” added." in content
    assert "HX-Request" in response["Vary"]
    assert api.scopes.get(value="write:timesheets").description == "Log hours"


def test_scope_add_without_javascript_redirects_back_to_the_tab(staff_client, api):
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/scopes/", {"value": "write:timesheets", "description": "Log hours"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/?tab=scopes"
    assert api.scopes.filter(value="write:timesheets").exists()


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("read:timesheets", "__all__", "This API already has a scope read:timesheets."),
        ("read timesheets", "value", "A scope is one word"),
        ("openid", "value", "is an OpenID Connect scope"),
        ("", "value", "This field is required."),
    ],
)
def test_invalid_scope_shows_an_inline_error_and_creates_nothing(staff_client, api, value, field, message):
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/scopes/", {"value": value, "description": "Something"}, **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert "<html" not in content
    assert message in content
    assert any(message in error for error in response.context["scope_form"].errors[field])
    if field == "value":
        assert 'id="id_value_error"' in content
    else:
        assert 'class="form-error" role="alert"' in content
    assert list(api.scopes.values_list("value", flat=True)) == ["read:timesheets"]


def test_invalid_scope_without_javascript_renders_the_page_with_the_error(staff_client, api):
    response = staff_client.post(f"/dashboard/apis/{api.pk}/scopes/", {"value": "openid", "description": "x"})
    assert response.status_code == HTTPStatus.OK
    content = html.unescape(response.content.decode())
    assert "<html" in content
    assert "“openid” is an OpenID Connect scope" in content
    assert api.scopes.count() == 1


def test_scope_edit(staff_client, api):
    scope = api.scopes.get()
    form = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=scopes&edit={scope.pk}", **HTMX)
    assert "<html" not in form.content.decode()
    assert f'hx-post="/dashboard/apis/{api.pk}/scopes/{scope.pk}/"' in form.content.decode()

    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/scopes/{scope.pk}/",
        {"value": "read:hours", "description": "Read hours"},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert "<code>read:hours</code>" in response.content.decode()
    scope.refresh_from_db()
    assert (scope.value, scope.description) == ("read:hours", "Read hours")


def test_scope_edit_errors_are_inline(staff_client, api):
    services.scope_create(api=api, value="write:timesheets", description="Log hours")
    scope = api.scopes.get(value="read:timesheets")
    response = staff_client.post(
        f"/dashboard/apis/{api.pk}/scopes/{scope.pk}/",
        {"value": "write:timesheets", "description": "x"},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert "This API already has a scope write:timesheets." in html.unescape(response.content.decode())
    scope.refresh_from_db()
    assert scope.value == "read:timesheets"


def test_scope_remove(staff_client, api):
    scope = api.scopes.get()
    assert staff_client.get(f"/dashboard/apis/{api.pk}/scopes/{scope.pk}/delete/").status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )
    response = staff_client.post(f"/dashboard/apis/{api.pk}/scopes/{scope.pk}/delete/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "<html" not in content
    assert f'id="scope-{scope.pk}"' not in content
    assert "Scope “read:timesheets” removed." in content
    assert "No scopes yet." in content
    assert not api.scopes.exists()


def test_scope_remove_without_javascript(staff_client, api):
    scope = api.scopes.get()
    response = staff_client.post(f"/dashboard/apis/{api.pk}/scopes/{scope.pk}/delete/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/?tab=scopes"
    assert not api.scopes.exists()


def test_signing_tab_hides_the_secret_until_revealed(staff_client, hs256_api):
    page = staff_client.get(f"/dashboard/apis/{hs256_api.pk}/?tab=signing")
    assert page.status_code == HTTPStatus.OK
    assert hs256_api.hs256_secret not in page.content.decode()

    response = staff_client.get(f"/dashboard/apis/{hs256_api.pk}/signing/secret/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in response.content.decode()
    assert hs256_api.hs256_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]

    # Without JavaScript the link opens the page with the secret shown.
    full = staff_client.get(f"/dashboard/apis/{hs256_api.pk}/signing/secret/")
    assert "<html" in full.content.decode() and hs256_api.hs256_secret in full.content.decode()


def test_secret_reveal_is_for_staff_only(user_client, hs256_api):
    path = f"/dashboard/apis/{hs256_api.pk}/signing/secret/"
    forbidden = user_client.get(path, **HTMX)
    assert forbidden.status_code == HTTPStatus.FORBIDDEN
    anonymous = HttpClient().get(path, **HTMX)
    assert anonymous["HX-Redirect"].startswith("/login/?next=")
    for response in (forbidden, anonymous, user_client.get(path), HttpClient().get(path)):
        assert hs256_api.hs256_secret not in response.content.decode()


def test_an_rs256_api_has_no_secret_to_reveal_or_rotate(staff_client, api):
    assert staff_client.get(f"/dashboard/apis/{api.pk}/signing/secret/").status_code == HTTPStatus.NOT_FOUND
    response = staff_client.post(f"/dashboard/apis/{api.pk}/signing/secret/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_secret_rotate_needs_confirmation(staff_client, hs256_api):
    before = hs256_api.hs256_secret
    response = staff_client.post(f"/dashboard/apis/{hs256_api.pk}/signing/secret/rotate/", {})
    assert response.status_code == HTTPStatus.OK
    assert 'id="id_confirm_error"' in response.content.decode()
    hs256_api.refresh_from_db()
    assert hs256_api.hs256_secret == before

    response = staff_client.post(f"/dashboard/apis/{hs256_api.pk}/signing/secret/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{hs256_api.pk}/?tab=signing"
    hs256_api.refresh_from_db()
    assert hs256_api.hs256_secret != before
    assert len(hs256_api.hs256_secret) >= 43


def test_secret_rotate_is_refused_to_non_staff(user_client, hs256_api):
    before = hs256_api.hs256_secret
    response = user_client.post(f"/dashboard/apis/{hs256_api.pk}/signing/secret/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    hs256_api.refresh_from_db()
    assert hs256_api.hs256_secret == before


def test_rs256_signing_tab_lists_the_published_keys_and_rotation_adds_one(staff_client, api):
    page = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=signing")
    (current,) = SigningKey.objects.all()
    assert current.kid in page.content.decode()
    assert "http://testserver/.well-known/jwks.json" in page.content.decode()

    response = staff_client.post(f"/dashboard/apis/{api.pk}/signing/key/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/dashboard/apis/{api.pk}/?tab=signing"
    assert SigningKey.objects.count() == 2
    current.refresh_from_db()
    assert current.retired_at is not None
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1

    page = staff_client.get(response["Location"])
    assert current.kid in page.content.decode()  # the old key stays published
    assert page.content.decode().count("<code>", 0) >= 2


def test_signing_key_rotate_needs_post(staff_client, api):
    response = staff_client.get(f"/dashboard/apis/{api.pk}/signing/key/rotate/")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def _snippet(response) -> str:
    match = re.search(r"<pre><code>(.*?)</code></pre>", response.content.decode(), re.DOTALL)
    assert match is not None
    return html.unescape(match.group(1))


def _claims(api: Api) -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": api.identifier,
        "client_id": "test",
        "scope": "read:timesheets",
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }


def test_rs256_quickstart_code_verifies_a_real_token(staff_client, api, monkeypatch):
    response = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=quickstart")
    assert response.status_code == HTTPStatus.OK
    code = _snippet(response)
    assert 'jwt.PyJWKClient("http://testserver/.well-known/jwks.json")' in code
    assert 'AUDIENCE = "https://timesheets.abcinc.example/"' in code
    assert 'ISSUER = "http://testserver"' in code

    verify = _jwks_snippet_verify(code, monkeypatch)
    token = mint_access_token(_claims(api), signing=ApiSigning.of(api))
    assert verify(token)["sub"] == "user-1"
    other = services.api_create(identifier="https://other.abcinc.example/", name="Other")
    with pytest.raises(jwt.InvalidAudienceError):
        verify(mint_access_token(_claims(other), signing=ApiSigning.of(other)))


def _jwks_snippet_verify(code: str, monkeypatch):
    """The snippet's verify(), run as an API would, with the JWKS fetched from this server."""
    jwks = HttpClient().get("/.well-known/jwks.json").json()
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: jwks)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own page's snippet, in a test
    return namespace["verify"]


def test_hs256_quickstart_code_verifies_a_real_token(staff_client, hs256_api, monkeypatch):
    response = staff_client.get(f"/dashboard/apis/{hs256_api.pk}/?tab=quickstart")
    code = _snippet(response)
    assert hs256_api.hs256_secret not in response.content.decode()  # only the Signing tab reveals it
    assert 'algorithms=["HS256"]' in code

    monkeypatch.setenv("API_SIGNING_SECRET", hs256_api.hs256_secret)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own page's snippet, in a test
    token = mint_access_token(_claims(hs256_api), signing=ApiSigning.of(hs256_api))
    assert namespace["verify"](token)["aud"] == hs256_api.identifier
    not_an_access_token = jwt.encode(_claims(hs256_api), hs256_api.hs256_secret, algorithm="HS256")
    with pytest.raises(jwt.InvalidTokenError, match="not an access token"):
        namespace["verify"](not_an_access_token)


def test_delete_flow(staff_client, api):
    page = staff_client.get(f"/dashboard/apis/{api.pk}/delete/")
    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    assert "https://timesheets.abcinc.example/" in content
    assert "No new access token is issued" in content
    assert Api.objects.filter(pk=api.pk).exists()  # GET changes nothing

    response = staff_client.post(f"/dashboard/apis/{api.pk}/delete/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/apis/"
    assert not Api.objects.filter(pk=api.pk).exists()
    assert not Scope.objects.filter(api_id=api.pk).exists()
    listing = staff_client.get("/dashboard/apis/")
    assert "API “Timesheets” deleted." in listing.content.decode()
    assert staff_client.get(f"/dashboard/apis/{api.pk}/").status_code == HTTPStatus.NOT_FOUND


@pytest.fixture
def es256_api() -> Api:
    return services.api_create(
        identifier="https://fast.abcinc.example/", name="Fast", signing_algorithm="ES256"
    )


def test_create_form_offers_es256(staff_client):
    page = staff_client.get("/dashboard/apis/new/")
    assert '<option value="ES256"' in page.content.decode()
    response = staff_client.post(
        "/dashboard/apis/new/",
        {"name": "Fast", "identifier": "https://fast.abcinc.example/", "signing_algorithm": "ES256"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Api.objects.get(identifier="https://fast.abcinc.example/").signing_algorithm == Api.Algorithm.ES256


def test_create_form_refuses_an_algorithm_it_does_not_offer(staff_client):
    response = staff_client.post(
        "/dashboard/apis/new/",
        {"name": "Odd", "identifier": "https://odd.abcinc.example/", "signing_algorithm": "PS256"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "signing_algorithm" in response.context["form"].errors
    assert not Api.objects.filter(identifier="https://odd.abcinc.example/").exists()


def test_es256_signing_tab_lists_both_keys_and_rotation_replaces_both(staff_client, es256_api):
    page = staff_client.get(f"/dashboard/apis/{es256_api.pk}/?tab=signing").content.decode()
    current = set(SigningKey.objects.all())
    assert {key.algorithm for key in current} == {"RS256", "ES256"}
    assert all(key.kid in page for key in current)
    assert "http://testserver/.well-known/jwks.json" in page
    assert "Reveal secret" not in page

    response = staff_client.post(f"/dashboard/apis/{es256_api.pk}/signing/key/rotate/", {"confirm": "on"})
    assert response.status_code == HTTPStatus.FOUND
    new = set(SigningKey.objects.filter(retired_at__isnull=True))
    assert {key.algorithm for key in new} == {"RS256", "ES256"}
    assert new.isdisjoint(current)
    page = staff_client.get(response["Location"]).content.decode()
    assert all(key.kid in page for key in current | new)  # the old keys stay published


def test_es256_quickstart_code_verifies_a_real_token(staff_client, es256_api, monkeypatch):
    code = _snippet(staff_client.get(f"/dashboard/apis/{es256_api.pk}/?tab=quickstart"))
    assert 'algorithms=["ES256"]' in code
    assert 'jwt.PyJWKClient("http://testserver/.well-known/jwks.json")' in code

    verify = _jwks_snippet_verify(code, monkeypatch)
    token = mint_access_token(_claims(es256_api), signing=ApiSigning.of(es256_api))
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert verify(token)["sub"] == "user-1"
    rs256 = services.api_create(identifier="https://other.abcinc.example/", name="Other")
    rs256_token = mint_access_token(
        _claims(es256_api) | {"aud": es256_api.identifier}, signing=ApiSigning.of(rs256)
    )
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(rs256_token)
