"""Scheduled signing-key rotation: the beat task publishes the next key ahead of its turn,
then switches to it once relying parties have had the lead time to fetch it; a next key never
signs; the dashboard shows the schedule."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from jwcrypto import jws

from accounts.health import CheckFailed
from accounts.models import AuditEntry
from apis import health
from apis.key_schedule import Outcome, signing_keys_rotate_due
from apis.keys import ES256, RS256, current_keys, forget_current_key, next_keys, signing_key_current
from apis.models import Api, SigningKey
from apis.services import api_create, signing_key_rotate_now
from apis.tokens import ApiSigning, mint_access_token, verify_access_token
from config.celery import app
from tests.apis.test_es256 import FAST_API, _claims
from tests.oauth import TIMESHEETS_API, Pkce, exchange, get_code, jwks, verify

pytestmark = pytest.mark.django_db

ROTATION = timedelta(days=settings.SIGNING_KEY_ROTATION_DAYS)
LEAD = timedelta(days=settings.SIGNING_KEY_PUBLISH_LEAD_DAYS)


@pytest.fixture
def es256_api() -> Api:
    return api_create(identifier=FAST_API, name="Fast API", signing_algorithm=Api.Algorithm.ES256)


def _beat_task():
    """The task the beat schedule names, as a worker finds it: by autodiscovery."""
    entry = settings.CELERY_BEAT_SCHEDULE["signing-keys-rotate-due"]
    assert entry["schedule"] == settings.SIGNING_KEY_ROTATION_CHECK_SECONDS
    app.loader.import_default_modules()  # what a worker and beat do when they start
    return app.tasks[str(entry["task"])]


def _run_beat_task() -> str:
    return _beat_task().apply().get()


def _rsa_kids() -> set[str]:
    keys = HttpClient().get("/.well-known/jwks.json").json()["keys"]
    return {key["kid"] for key in keys if key["kty"] == "RSA"}


def _age(key: SigningKey, age: timedelta) -> None:
    """Make ``key`` current for ``age`` already (update(): as a row written long ago)."""
    SigningKey.objects.filter(pk=key.pk).update(
        activated_at=timezone.now() - age, created_at=timezone.now() - age
    )


def _published_for(key: SigningKey, age: timedelta) -> None:
    SigningKey.objects.filter(pk=key.pk).update(created_at=timezone.now() - age)


def _id_token_kid(user_client, public_client) -> tuple[str, str]:
    pkce = Pkce.new()
    code = get_code(user_client, public_client.client_id, pkce)
    token = exchange(user_client, public_client.client_id, code, pkce.verifier).json()["id_token"]
    header = jws.JWS()
    header.deserialize(token)
    return token, json.loads(header.objects["protected"])["kid"]


def _access_token(api: Api) -> str:
    return mint_access_token(_claims(api.identifier), signing=ApiSigning.of(api))


def test_the_beat_task_publishes_the_next_key_ahead_then_switches_to_it(
    timesheets_api, public_client, user_client
):
    old = signing_key_current()
    _age(old, ROTATION - LEAD + timedelta(days=1))
    assert _rsa_kids() == {old.kid}

    assert _run_beat_task() == Outcome.PUBLISHED
    upcoming = next_keys().get(algorithm=RS256)
    assert _rsa_kids() == {old.kid, upcoming.kid}  # published, so that caches pick it up
    old_id_token, kid = _id_token_kid(user_client, public_client)
    assert kid == old.kid  # the next key does not sign yet
    old_access_token = _access_token(timesheets_api)
    assert jwt.get_unverified_header(old_access_token)["kid"] == old.kid

    _age(old, ROTATION + timedelta(days=1))
    _published_for(upcoming, LEAD + timedelta(minutes=1))
    assert _run_beat_task() == Outcome.ROTATED

    _, kid = _id_token_kid(user_client, public_client)
    assert kid == upcoming.kid
    assert jwt.get_unverified_header(_access_token(timesheets_api))["kid"] == upcoming.kid
    assert _rsa_kids() == {old.kid, upcoming.kid}  # the old key stays for its tokens
    old.refresh_from_db()
    assert old.retired_at is not None
    verify(old_id_token, jwks(user_client))
    assert verify_access_token(old_access_token, audience=TIMESHEETS_API)["sub"]
    entry = AuditEntry.objects.get(action="signing_key.rotate")
    assert entry.actor_label == "system"
    assert entry.after == {"kid": upcoming.kid, "previous": old.kid, "scheduled": True}
    assert AuditEntry.objects.filter(action="signing_key.publish", actor_label="system").count() == 1


def test_two_runs_publish_one_next_key(timesheets_api):
    old = signing_key_current()
    _age(old, ROTATION - LEAD + timedelta(days=1))
    assert signing_keys_rotate_due() == Outcome.PUBLISHED
    assert signing_keys_rotate_due() == Outcome.NOT_DUE
    assert next_keys().count() == 1
    assert len(_rsa_kids()) == 2


def _key_row(kid: str, activated_at) -> SigningKey:
    return SigningKey.objects.create(kid=kid, algorithm=RS256, private_key_pem="-", activated_at=activated_at)


def test_the_database_refuses_a_second_next_or_current_key():
    signing_key_current()
    _key_row("next", None)
    with pytest.raises(IntegrityError), transaction.atomic():
        _key_row("second next", None)
    with pytest.raises(IntegrityError), transaction.atomic():
        _key_row("second current", timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():  # a key that never signed cannot retire
        SigningKey.objects.filter(kid="next").update(retired_at=timezone.now())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_publish_one_next_key_and_rotate_once():
    old = signing_key_current()
    _age(old, ROTATION - LEAD + timedelta(days=1))
    outcomes = _at_once(signing_keys_rotate_due, 2)
    assert sorted(outcomes) == [Outcome.NOT_DUE, Outcome.PUBLISHED]  # the second waited, then saw the key
    assert next_keys().count() == 1

    _age(old, ROTATION + timedelta(days=1))
    _published_for(next_keys().get(), LEAD + timedelta(minutes=1))
    outcomes = _at_once(signing_keys_rotate_due, 2)
    assert outcomes.count(Outcome.ROTATED) == 1
    assert current_keys().count() == 1
    assert SigningKey.objects.filter(retired_at__isnull=False).count() == 1


def _at_once(work, count: int) -> list:
    start = threading.Barrier(count)
    results: list = []

    def run() -> None:
        start.wait(timeout=10)
        try:
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_a_next_key_published_less_than_the_lead_ago_waits(timesheets_api):
    old = signing_key_current()
    _age(old, ROTATION - LEAD + timedelta(days=1))
    signing_keys_rotate_due()
    upcoming = next_keys().get(algorithm=RS256)
    _age(old, ROTATION + timedelta(days=1))
    _published_for(upcoming, LEAD - timedelta(hours=1))

    assert signing_keys_rotate_due() == Outcome.WAITING
    assert signing_key_current() == old
    assert jwt.get_unverified_header(_access_token(timesheets_api))["kid"] == old.kid


def test_an_overdue_key_with_nothing_published_keeps_signing_for_the_lead_time(timesheets_api):
    # Rotation just enabled on an old key: publish now, switch only after the lead time.
    old = signing_key_current()
    _age(old, 2 * ROTATION)
    assert signing_keys_rotate_due() == Outcome.PUBLISHED
    assert signing_key_current() == old
    assert signing_keys_rotate_due() == Outcome.WAITING
    assert next_keys().count() == 1


@override_settings(SIGNING_KEY_PUBLISH_LEAD_DAYS=0)
def test_without_a_lead_time_the_new_key_signs_at_once(timesheets_api):
    old = signing_key_current()
    _age(old, ROTATION + timedelta(days=1))
    assert signing_keys_rotate_due() == Outcome.ROTATED
    assert signing_key_current() != old
    assert not next_keys().exists()


@override_settings(SIGNING_KEY_ROTATION_DAYS=0)
def test_rotation_days_0_leaves_the_keys_alone():
    old = signing_key_current()
    _age(old, timedelta(days=3650))
    assert _run_beat_task() == Outcome.OFF
    assert list(SigningKey.objects.values_list("kid", flat=True)) == [old.kid]
    assert not AuditEntry.objects.filter(action__startswith="signing_key.").exists()


def test_a_manual_rotation_activates_the_published_next_keys(es256_api, staff_user):
    old_rsa, old_ec = signing_key_current(RS256), signing_key_current(ES256)
    _age(old_rsa, ROTATION - LEAD + timedelta(days=1))
    signing_keys_rotate_due()
    published = {key.algorithm: key.kid for key in next_keys()}
    assert set(published) == {RS256, ES256}

    key = signing_key_rotate_now(actor=staff_user)

    assert key.kid == published[RS256]
    assert signing_key_current(ES256).kid == published[ES256]
    assert not next_keys().exists()
    assert {old_rsa.kid, old_ec.kid} <= set(SigningKey.objects.values_list("kid", flat=True))
    entry = AuditEntry.objects.get(action="signing_key.rotate")
    assert entry.after == {"kid": key.kid, "published_ahead": True}


def test_a_manual_rotation_without_a_next_key_makes_new_keys(timesheets_api):
    old = signing_key_current()
    key = signing_key_rotate_now()
    assert key.kid != old.kid
    assert not next_keys().exists()
    assert AuditEntry.objects.get(action="signing_key.rotate").after == {
        "kid": key.kid,
        "published_ahead": False,
    }


def test_a_next_key_never_signs(es256_api, timesheets_api, public_client, user_client):
    rsa, ec = signing_key_current(RS256), signing_key_current(ES256)
    _age(rsa, ROTATION - LEAD + timedelta(days=1))
    signing_keys_rotate_due()
    assert next_keys().count() == 2  # RSA and EC
    forget_current_key()  # a process without a copy yet reads the keys afresh: still the current ones
    assert signing_key_current(RS256) == rsa
    assert signing_key_current(ES256) == ec
    assert jwt.get_unverified_header(_access_token(es256_api))["kid"] == ec.kid
    assert jwt.get_unverified_header(_access_token(timesheets_api))["kid"] == rsa.kid
    assert _id_token_kid(user_client, public_client)[1] == rsa.kid


def _dd(page: str, term: str) -> str:
    """The text of the schedule's entry ``term``, whitespace collapsed."""
    match = re.search(rf"<dt>{term}</dt>\s*<dd>(.*?)</dd>", page, re.DOTALL)
    assert match is not None, term
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def _minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_the_dashboard_shows_the_schedule_and_the_next_rotation(staff_client, timesheets_api):
    current = signing_key_current()
    _age(current, ROTATION - LEAD - timedelta(days=1))
    current.refresh_from_db()
    assert current.activated_at is not None
    due = current.activated_at + ROTATION
    url = f"/dashboard/apis/{timesheets_api.pk}/?tab=signing"

    page = staff_client.get(url).content.decode()
    days, lead = settings.SIGNING_KEY_ROTATION_DAYS, settings.SIGNING_KEY_PUBLISH_LEAD_DAYS
    assert _dd(page, "Schedule").startswith(
        f"Rotates every {days:g} days; each next key is published in the JWKS {lead:g} days"
    )
    assert _dd(page, "Current key") == f"{current.kid} (RS256), signing since {_minute(current.activated_at)}"
    assert _dd(page, "Next key") == f"To be published on about {_minute(due - LEAD)}."
    assert _dd(page, "Next rotation") == f"On about {_minute(due)}."

    _age(current, ROTATION - LEAD + timedelta(days=1))
    current.refresh_from_db()
    assert current.activated_at is not None
    signing_keys_rotate_due()
    upcoming = next_keys().get()
    page = staff_client.get(url).content.decode()
    assert _dd(page, "Next key") == f"{upcoming.kid} (RS256), published since {_minute(upcoming.created_at)}"
    # Published a day late (the beat was down, say): it signs once it has been out for the lead.
    rotate_at = upcoming.created_at + LEAD
    assert rotate_at > current.activated_at + ROTATION
    assert _dd(page, "Next rotation") == f"On about {_minute(rotate_at)}, when the next key starts to sign."
    assert '<span class="badge muted">next</span>' in page


@override_settings(SIGNING_KEY_ROTATION_DAYS=0)
def test_the_dashboard_says_when_rotation_is_by_hand_only(staff_client, timesheets_api):
    page = staff_client.get(f"/dashboard/apis/{timesheets_api.pk}/?tab=signing").content.decode()
    assert _dd(page, "Schedule") == "Off: the keys rotate by hand only."
    assert _dd(page, "Next key") == "None published: a rotation by hand makes new keys."
    assert _dd(page, "Next rotation") == "By hand only."


def test_a_next_key_alone_is_no_current_key_for_readiness():
    rsa = signing_key_current()
    _age(rsa, ROTATION - LEAD + timedelta(days=1))
    signing_keys_rotate_due()
    health.signing_key()  # the current key
    SigningKey.objects.filter(pk=rsa.pk).update(retired_at=timezone.now())
    assert next_keys().filter(algorithm=RS256).exists()
    with pytest.raises(CheckFailed, match="no current RS256 key"):
        health.signing_key()
