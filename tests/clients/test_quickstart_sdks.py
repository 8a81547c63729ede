"""The Quickstart's SDK snippets (AppAuth on Android and iOS, oidc-client-ts, jose, Spring
Security) carry the application's and the API's real values as valid literals of their
language, and every copyable value has its Copy button."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from http import HTTPStatus
from pathlib import Path
from typing import NoReturn

import pytest

from apis.services import api_create
from apis.views import java_string
from clients import services
from clients.models import Client
from clients.quickstart import js_string, kotlin_string, swift_string
from tests.oauth import ISSUER, MOBILE_CALLBACK

pytestmark = pytest.mark.django_db

SPA_CALLBACK = "https://timesheets.abcinc.example/spa/callback"
SCOPE = "openid profile offline_access approve:timesheets create:timesheets delete:timesheets read:timesheets"
# A quote, a backslash, a dollar, a newline, a control character, a character beyond ASCII.
AWKWARD = 'a"b\\c$d{e}\nf\x01g\u00e9h'


def _code(response, language: str) -> str:
    pattern = rf'<code class="language-{language}">(.*?)</code>'
    found = re.findall(pattern, response.content.decode(), re.DOTALL)
    assert len(found) == 1, found
    return html.unescape(found[0])


@pytest.fixture
def native_app() -> Client:
    client, _ = services.client_create(
        app_type=Client.AppType.NATIVE, name="Timesheets Mobile", redirect_uris=[MOBILE_CALLBACK]
    )
    return client


@pytest.fixture
def spa_app() -> Client:
    client, _ = services.client_create(
        app_type=Client.AppType.SPA, name="Timesheets SPA", redirect_uris=[SPA_CALLBACK]
    )
    return client


def test_native_quickstart_has_appauth_for_android_and_ios(staff_client, native_app, timesheets_api):
    response = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=quickstart")
    assert response.status_code == HTTPStatus.OK
    kotlin = _code(response, "kotlin")
    assert f'val ISSUER: Uri = Uri.parse("{ISSUER}")' in kotlin
    assert f'const val CLIENT_ID = "{native_app.client_id}"' in kotlin
    assert f'val REDIRECT_URI: Uri = Uri.parse("{MOBILE_CALLBACK}")' in kotlin
    assert f'.setScope("{SCOPE}")' in kotlin
    assert f'.setAdditionalParameters(mapOf("audience" to "{timesheets_api.identifier}"))' in kotlin
    assert (
        "AuthorizationRequest.Builder(configuration, CLIENT_ID, ResponseTypeValues.CODE, REDIRECT_URI)"
        in kotlin
    )
    assert "performTokenRequest(response.createTokenExchangeRequest())" in kotlin
    assert "com.abcinc.timesheets" in response.content.decode()  # the scheme to register

    swift = _code(response, "swift")
    assert f'let issuer = URL(string: "{ISSUER}")!' in swift
    assert f'let clientID = "{native_app.client_id}"' in swift
    assert f'let redirectURI = URL(string: "{MOBILE_CALLBACK}")!' in swift
    assert "scopes: [" + ", ".join(f'"{scope}"' for scope in SCOPE.split()) + "]" in swift
    assert f'additionalParameters: ["audience": "{timesheets_api.identifier}"]' in swift
    assert "oidc-client-ts" not in response.content.decode()


def test_spa_quickstart_has_oidc_client_ts(staff_client, spa_app, timesheets_api, tmp_path):
    response = staff_client.get(f"/dashboard/applications/{spa_app.pk}/?tab=quickstart")
    code = _code(response, "javascript")
    assert f'authority: "{ISSUER}"' in code
    assert f'client_id: "{spa_app.client_id}"' in code
    assert f'redirect_uri: "{SPA_CALLBACK}"' in code
    assert f'scope: "{SCOPE}"' in code
    assert f'extraQueryParams: {{ audience: "{timesheets_api.identifier}" }}' in code
    assert "AppAuth" not in response.content.decode()
    _node_check(code, tmp_path)


def test_web_and_machine_quickstarts_have_no_sdk_snippets(staff_client, timesheets_api):
    web, _ = services.client_create(
        app_type=Client.AppType.REGULAR_WEB, name="Web", redirect_uris=["https://a.example/cb"]
    )
    content = staff_client.get(f"/dashboard/applications/{web.pk}/?tab=quickstart").content.decode()
    assert 'class="language-' not in content


def test_literals_survive_awkward_values(tmp_path):
    assert kotlin_string(AWKWARD) == '"a\\"b\\\\c\\$d{e}\\nf\\u0001géh"'
    assert swift_string(AWKWARD) == '"a\\"b\\\\c$d{e}\\nf\\u{1}géh"'
    assert swift_string("\\(x)") == '"\\\\(x)"'  # no interpolation
    assert json.loads(js_string(AWKWARD)) == AWKWARD
    node = shutil.which("node")
    if node is None and os.environ.get("REQUIRE_TOOLCHAINS"):
        pytest.fail("node is not installed, and REQUIRE_TOOLCHAINS is set")
    if node is not None:
        script = f"process.stdout.write(JSON.stringify({js_string(AWKWARD)}))"
        assert (
            json.loads(subprocess.run([node, "-e", script], capture_output=True, check=True).stdout)
            == AWKWARD
        )
    _java_roundtrip([AWKWARD, "1\x012", "\\u0041"], tmp_path)


def _missing(reason: str) -> NoReturn:
    """A toolchain that is not here skips the check, except on CI (``REQUIRE_TOOLCHAINS``),
    where a missing one would let a snippet that no longer compiles pass unnoticed."""
    if os.environ.get("REQUIRE_TOOLCHAINS"):
        pytest.fail(f"{reason}, and REQUIRE_TOOLCHAINS is set")
    pytest.skip(reason)


def _node_check(code: str, tmp_path: Path) -> None:
    """The snippet parses as an ES module (imports are not resolved by --check)."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed")
    module = tmp_path / "snippet.mjs"
    module.write_text(code)
    result = subprocess.run([node, "--check", str(module)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _java_roundtrip(values: list[str], tmp_path: Path) -> None:
    """javac compiles the literals and the program prints back the values they hold."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        _missing("no JDK (javac, java)")
    literals = ", ".join(java_string(value) for value in values)
    (tmp_path / "Literals.java").write_text(
        "public class Literals { public static void main(String[] args) {"
        f" for (String value : new String[] {{{literals}}}) {{"
        " StringBuilder out = new StringBuilder();"
        " value.codePoints().forEach(c -> out.append(c).append(','));"
        " System.out.println(out); } } }"
    )
    subprocess.run([javac, "Literals.java"], cwd=tmp_path, check=True, capture_output=True)
    printed = subprocess.run([java, "Literals"], cwd=tmp_path, check=True, capture_output=True, text=True)
    decoded = [
        "".join(chr(int(c)) for c in line.rstrip(",").split(",")) for line in printed.stdout.splitlines()
    ]
    assert decoded == values


@pytest.mark.parametrize("algorithm", ["RS256", "HS256", "ES256"])
def test_api_quickstart_verifies_in_node_and_java(staff_client, algorithm, tmp_path):
    api = api_create(
        identifier=f"https://{algorithm.lower()}.abcinc.example/api",
        name=algorithm,
        signing_algorithm=algorithm,
    )
    response = staff_client.get(f"/dashboard/apis/{api.pk}/?tab=quickstart")
    node = _code(response, "javascript")
    assert f'const ISSUER = "{ISSUER}";' in node
    assert f'const AUDIENCE = "{api.identifier}";' in node
    assert f'algorithms: ["{api.signing_algorithm}"]' in node
    assert 'typ: "at+jwt"' in node
    if api.signing_algorithm == "HS256":
        assert "process.env.API_SIGNING_SECRET" in node
        assert api.hs256_secret not in response.content.decode()
    else:
        assert f'createRemoteJWKSet(new URL("{ISSUER}/.well-known/jwks.json"))' in node
    _node_check(node, tmp_path)

    java = _code(response, "java")
    assert f'static final String ISSUER = "{ISSUER}";' in java
    assert f'static final String AUDIENCE = "{api.identifier}";' in java
    assert 'new JOSEObjectType("at+jwt")' in java
    assert "JwtValidators.createDefaultWithIssuer(ISSUER), audience" in java
    if api.signing_algorithm == "HS256":
        assert ".macAlgorithm(MacAlgorithm.HS256)" in java
    else:
        assert f'static final String JWKS_URL = "{ISSUER}/.well-known/jwks.json";' in java
        assert f".jwsAlgorithm(SignatureAlgorithm.{api.signing_algorithm})" in java
    assert java.count("{") == java.count("}") and java.count("(") == java.count(")")


def _copy_targets(content: str) -> list[str]:
    targets = re.findall(r'<button type="button"[^>]*data-copy-target="([^"]+)"', content)
    assert targets
    for target in targets:
        assert f'id="{target}"' in content, target
    assert '<script src="/static/js/copy.js" defer></script>' in content
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content) is None  # no inline script (CSP)
    return targets


def test_copy_buttons_on_every_value_and_snippet(staff_client, native_app, timesheets_api):
    content = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=quickstart").content.decode()
    assert set(_copy_targets(content)) >= {
        "header-client-id",
        "qs-kotlin",
        "qs-swift",
        "qs-python",
        "qs-authorize-url",
        "qs-curl",
    }
    content = staff_client.get(f"/dashboard/applications/{native_app.pk}/?tab=credentials").content.decode()
    assert "client-id" in _copy_targets(content)
    content = staff_client.get(f"/dashboard/apis/{timesheets_api.pk}/?tab=quickstart").content.decode()
    assert set(_copy_targets(content)) >= {
        "api-identifier",
        "qs-issuer",
        "qs-audience",
        "qs-jwks-url",
        "qs-python",
        "qs-node",
        "qs-java",
    }


def test_a_new_secret_has_a_copy_button(staff_client):
    response = staff_client.post("/dashboard/applications/new/", {"name": "Batch", "app_type": "m2m"})
    content = staff_client.get(response["Location"]).content.decode()
    assert "client-secret" in _copy_targets(content)
    secret = re.search(r'<code class="secret" id="client-secret">([^<]+)</code>', content)
    assert secret is not None and len(secret.group(1)) > 20
