"""Sign-in lockouts count per account whatever the email's spelling, and cannot be turned
against everyone behind one address (issue 13, points 1 and 2)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client as HttpClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("steady_rate_window")]


def _login(http: HttpClient, email: str, password: str):
    return http.post("/login/", {"username": email, "password": password})


def _lock(user, settings, address: str = "203.0.113.5") -> None:
    http = HttpClient(REMOTE_ADDR=address)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(http, user.email, "wrong-password")


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("ALICE@ABCINC.EXAMPLE", id="upper-case"),
        pytest.param("Alice@AbcInc.Example", id="mixed-case"),
        pytest.param("  alice@abcinc.example  ", id="surrounding-spaces"),
        pytest.param("\uff41\uff4c\uff49\uff43\uff45@abcinc.example", id="fullwidth-nfkc"),
    ],
)
def test_a_locked_account_stays_locked_whatever_the_spelling(user, password, settings, spelling):
    _lock(user, settings)
    response = _login(HttpClient(REMOTE_ADDR="198.51.100.30"), spelling, password)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in HttpClient().session


def test_failures_spread_over_spellings_count_for_one_account(user, password, settings):
    spellings = [
        "alice@abcinc.example",
        "Alice@abcinc.example",
        "aLice@abcinc.example",
        "alIce@abcinc.example",
        "aliCe@abcinc.example",
        "ALICE@abcinc.example",
    ]
    for index, spelling in enumerate(spellings[: settings.AXES_FAILURE_LIMIT]):
        # Each guess from its own address: only the per-account count can stop them.
        _login(HttpClient(REMOTE_ADDR=f"203.0.113.{10 + index}"), spelling, "wrong-password")
    sixth = _login(HttpClient(REMOTE_ADDR="203.0.113.99"), spellings[-1], password)
    assert sixth.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_right_spelling_still_signs_in_before_the_limit(user, password, settings):
    http = HttpClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(http, "ALICE@abcinc.example", "wrong-password")
    assert _login(http, " Alice@ABCINC.example ", password).status_code == HTTPStatus.FOUND


def test_failures_for_one_account_do_not_lock_another_at_the_same_address(user, password, settings):
    office = HttpClient(REMOTE_ADDR="192.0.2.50")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _login(office, "carol@abcinc.example", "wrong-password")
    assert _login(office, user.email, password).status_code == HTTPStatus.FOUND


def test_behind_a_trusted_proxy_one_attacker_does_not_lock_out_everyone(user, password, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = HttpClient(REMOTE_ADDR="10.0.0.1")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        proxy.post(
            "/login/",
            {"username": "carol@abcinc.example", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    alice = proxy.post(
        "/login/", {"username": user.email, "password": password}, HTTP_X_FORWARDED_FOR="198.51.100.8"
    )
    assert alice.status_code == HTTPStatus.FOUND


def test_an_address_is_stopped_at_its_own_higher_failure_limit(user, password, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    attacker = HttpClient(REMOTE_ADDR="203.0.113.66")
    for index in range(12):
        response = _login(attacker, f"guess{index}@abcinc.example", "wrong-password")
        assert response.status_code == HTTPStatus.OK
    stopped = _login(attacker, user.email, password)
    assert stopped.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(stopped["Retry-After"]) <= 15 * 60
    # Only that address: the account itself is not locked.
    assert (
        _login(HttpClient(REMOTE_ADDR="198.51.100.1"), user.email, password).status_code == HTTPStatus.FOUND
    )


def test_the_default_address_limit_is_far_above_the_account_limit(settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT >= 10 * settings.AXES_FAILURE_LIMIT


def test_guesses_in_flight_together_get_no_more_than_the_limit(user, settings, monkeypatch):
    """Parallel guesses: django-axes records a failure only once its password check is over,
    so guesses sent together would all be checked. Simulated by sending the others while the
    first one's password is being checked."""
    checked: list[str] = []
    original = ModelBackend.authenticate

    def slow_check(self, request, username=None, password=None, **kwargs):
        checked.append(username or "")
        if len(checked) == 1:
            for index in range(settings.AXES_FAILURE_LIMIT):
                _login(HttpClient(REMOTE_ADDR=f"198.51.100.{60 + index}"), user.email, "wrong-password")
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", slow_check)
    _login(HttpClient(REMOTE_ADDR="198.51.100.59"), user.email, "wrong-password")
    assert len(checked) == settings.AXES_FAILURE_LIMIT


def test_clearing_a_lockout_lets_the_account_sign_in_at_once(user, password, staff_client, settings):
    _lock(user, settings)
    assert _login(HttpClient(), user.email, password).status_code == HTTPStatus.TOO_MANY_REQUESTS
    attempt = staff_client.get("/dashboard/lockouts/").context["attempts"][0]
    staff_client.post(f"/dashboard/lockouts/{attempt.pk}/clear/")
    assert _login(HttpClient(), user.email, password).status_code == HTTPStatus.FOUND
