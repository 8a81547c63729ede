"""An application signs a person out through the end-session endpoint, in Chromium: the
person lands on the application's registered logout page (a page served by the test, since
a browser cannot follow the mobile app's own scheme), on a phone and on a desktop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import expect

from clients.models import Client
from tests.oauth import Pkce, exchange, get_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


class _AppPage(BaseHTTPRequestHandler):
    """The application's "you are signed out" page."""

    def do_GET(self) -> None:
        body = f"<!doctype html><title>App</title><h1>Signed out of the app</h1><p>{self.path}</p>".encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def logged_out_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AppPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/logged-out"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(public_client, logged_out_url) -> Client:
    public_client.post_logout_redirect_uris = logged_out_url
    public_client.save()
    return public_client


def _id_token(user, client: Client) -> str:
    """An ID token the application received for ``user`` (a sign-in of its own)."""
    http = HttpClient()
    http.force_login(user)
    pkce = Pkce.new()
    code = get_code(http, client.client_id, pkce, scope="openid")
    return exchange(http, client.client_id, code, pkce.verifier).json()["id_token"]


def _sign_in(page, user, password) -> None:
    page.goto("/account/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Applications you allowed")).to_be_visible()


def _assert_signed_out(page) -> None:
    page.goto("/account/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_an_app_signs_the_person_out_to_its_logout_page(page, viewport, user, password, app, logged_out_url):
    hint = _id_token(user, app)
    page.set_viewport_size(viewport)
    _sign_in(page, user, password)

    query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": logged_out_url, "state": "st-42"})
    page.goto(f"/oauth/logout?{query}")

    page.wait_for_url(f"{logged_out_url}?state=st-42")
    expect(page.get_by_role("heading", name="Signed out of the app")).to_be_visible()
    _assert_signed_out(page)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_without_a_hint_the_person_confirms_first(page, viewport, user, password, app, logged_out_url):
    page.set_viewport_size(viewport)
    _sign_in(page, user, password)

    query = urlencode({"client_id": app.client_id, "post_logout_redirect_uri": logged_out_url, "state": "s"})
    page.goto(f"/oauth/logout?{query}")
    expect(page.get_by_role("heading", name="Sign out of ABC Inc.?")).to_be_visible()
    expect(page.get_by_text(app.name)).to_be_visible()
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    sign_out.click()

    page.wait_for_url(f"{logged_out_url}?state=s")
    _assert_signed_out(page)


def test_an_unregistered_logout_url_stays_on_our_page(page, user, password, app):
    _sign_in(page, user, password)
    query = urlencode(
        {"id_token_hint": _id_token(user, app), "post_logout_redirect_uri": "https://evil.example/"}
    )
    page.goto(f"/oauth/logout?{query}")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert page.url.startswith(page.evaluate("location.origin") + "/oauth/logout")
