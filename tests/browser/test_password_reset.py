"""Forgot password, end to end: the message goes through a real SMTP server (aiosmtpd) that
the test starts, and the person follows its link in Chromium, on a phone and a desktop."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from accounts.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
NEW_PASSWORD = "plum-orchard-lantern-42"


class Mailbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    # aiosmtpd calls this hook by name.
    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for_one(self) -> EmailMessage:
        deadline = time.monotonic() + 10
        while not self.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [message] = self.messages
        return message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield mailbox
    finally:
        controller.stop()


def _fits(page: Page, viewport: dict[str, int]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_forgot_password_through_smtp_then_sign_in(page, viewport, live_server, settings, smtp_server, user):
    # Links in emails are absolute under the issuer: here, the live server.
    settings.OIDC_ISSUER = live_server.url
    page.set_viewport_size(viewport)
    page.goto("/account/")
    _fits(page, viewport)
    page.get_by_role("link", name="Forgot password?").click()

    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    _fits(page, viewport)
    page.get_by_label("Work email").fill(user.email.upper())
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    _fits(page, viewport)

    message = smtp_server.wait_for_one()
    assert message["To"] == user.email
    assert message["Subject"] == "Reset your ABC Inc. Identity password"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    match = re.search(re.escape(live_server.url) + r"/password/set/\S+/", text.get_content())
    assert match, text.get_content()
    assert f'href="{match.group(0)}"' in html.get_content()

    page.goto(match.group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    _fits(page, viewport)
    # A weak one first: refused inline with the validator's message.
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password, again").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("This password is too short")).to_be_visible()
    _fits(page, viewport)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page.get_by_text("Your password is set. Sign in with it.")).to_be_visible()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/time/"))
    page.goto("/account/")
    expect(page.get_by_role("heading", name=f"Hello, {user.get_short_name()}")).to_be_visible()
    assert AuditEntry.objects.filter(action="user.password_reset", target_id=str(user.pk)).exists()

    # The link worked once: opened again, it says so and offers a new one.
    page.goto(match.group(0))
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    _fits(page, viewport)
