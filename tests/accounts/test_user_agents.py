"""User agents as browser and OS, on the administrator's view of a person's sessions."""

from __future__ import annotations

import html

import pytest
from django.test import Client as HttpClient

from accounts.self_service import browser_label

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", "Firefox on Linux"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_browser_labels(user_agent, label):
    assert browser_label(user_agent) == label


def test_the_user_page_names_the_browser_and_keeps_the_header_in_a_title(staff_client, user, password):
    HttpClient(HTTP_USER_AGENT=CHROME_WINDOWS).post("/login/", {"username": user.email, "password": password})
    body = staff_client.get(f"/dashboard/people/{user.pk}/").content.decode()
    assert '<td class="user-agent" title="' + html.escape(CHROME_WINDOWS) + '">Chrome on Windows</td>' in body
