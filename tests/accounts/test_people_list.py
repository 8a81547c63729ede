"""The users list's status, last sign-in, filter and sort (keyset pages in either order)."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import User
from accounts.selectors import user_page

pytestmark = pytest.mark.django_db

URL = "/dashboard/users/"


@pytest.fixture
def cast(user, staff_user) -> dict[str, User]:
    """One person in each status, and who signed in when."""
    now = timezone.now()
    invited = User.objects.create_user(email="invited@abcinc.example", invited_at=now)
    blocked = User.objects.create_user(email="blocked@abcinc.example", password="x-Long-passw0rd")
    services.user_deactivate(actor=None, user=blocked)
    gone = User.objects.create_user(
        email="gone@abcinc.example", name="Gone Person", password="x-Long-passw0rd"
    )
    services.user_delete(actor=None, user=gone)
    User.objects.filter(pk=user.pk).update(last_login=now - timedelta(days=2))
    User.objects.filter(pk=staff_user.pk).update(last_login=now - timedelta(hours=1))
    return {"active": user, "staff": staff_user, "invited": invited, "blocked": blocked, "deleted": gone}


def _emails(page) -> list[str]:
    return [row["email"] for row in page.rows]


def test_each_status_filters_to_its_people(cast):
    assert _emails(user_page(status="active")) == ["admin@abcinc.example", "alice@abcinc.example"]
    assert _emails(user_page(status="invited")) == ["invited@abcinc.example"]
    assert _emails(user_page(status="blocked")) == ["blocked@abcinc.example"]
    assert [row["former_email"] for row in user_page(status="deleted").rows] == ["gone@abcinc.example"]
    everyone = user_page()
    assert "gone@abcinc.example" not in str(everyone.rows)  # tombstones only when asked for
    assert {row["email"]: row["status"] for row in everyone.rows} == {
        "admin@abcinc.example": "active",
        "alice@abcinc.example": "active",
        "invited@abcinc.example": "invited",
        "blocked@abcinc.example": "blocked",
    }


def test_sorted_by_last_sign_in_newest_first_never_last(cast):
    assert _emails(user_page(sort="last_sign_in")) == [
        "admin@abcinc.example",
        "alice@abcinc.example",
        "blocked@abcinc.example",
        "invited@abcinc.example",
    ]


def test_keyset_pages_by_last_sign_in_walk_everyone_once_both_ways(db):
    now = timezone.now()
    User.objects.bulk_create(
        User(
            email=f"p{number:02d}@abcinc.example",
            password="!",
            last_login=None if number % 3 == 0 else now - timedelta(minutes=number % 5),
        )
        for number in range(23)
    )
    expected = _emails(user_page(sort="last_sign_in", size=100))
    pages, after = [], ""
    while True:
        page = user_page(sort="last_sign_in", after=after, size=5)
        pages.append(_emails(page))
        if page.after is None:
            break
        after = page.after
    assert [email for emails in pages for email in emails] == expected
    back = user_page(sort="last_sign_in", before=page.before or "", size=5)
    assert _emails(back) == pages[-2]


def test_a_mangled_boundary_is_not_an_error(cast, staff_client):
    response = staff_client.get(URL, {"sort": "last_sign_in", "after": "not-a-time|x", "status": "nonsense"})
    assert response.status_code == HTTPStatus.OK


def test_the_page_shows_status_and_last_sign_in_and_keeps_them_in_its_links(cast, staff_client):
    body = staff_client.get(URL).content.decode()
    invited_row = body[body.index("invited@abcinc.example") :].split("</tr>")[0]
    assert '<span class="badge muted">invited</span>' in invited_row and "never" in invited_row
    alice_row = body[body.index("alice@abcinc.example") :].split("</tr>")[0]
    assert "<time" in alice_row
    User.objects.bulk_create(User(email=f"z{n:02d}@abcinc.example", password="!") for n in range(60))
    response = staff_client.get(URL, {"status": "invited", "sort": "last_sign_in"})
    assert 'href="?q=&amp;status=invited&amp;sort=last_sign_in&amp;after=' in response.content.decode()


def test_htmx_filter_gets_only_the_fragment(cast, staff_client):
    response = staff_client.get(URL, {"status": "blocked"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "blocked@abcinc.example" in body and "alice@abcinc.example" not in body
    assert "<h1>" not in body and response["Vary"].count("HX-Request") == 1
