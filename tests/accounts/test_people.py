"""A person's lifecycle in accounts.services: invitation, resend, revoke, reset link, tombstone."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client as HttpClient
from django.utils import timezone

from accounts import services
from accounts.models import AuditEntry, User
from accounts.self_service import password_link_user

pytestmark = pytest.mark.django_db


def _invite(actor: User | None = None, email: str = "new@abcinc.example", **kwargs) -> User:
    return services.user_invite(
        actor=actor,
        email=email,
        name=kwargs.pop("name", "Nina New"),
        worker_type=kwargs.pop("worker_type", User.WorkerType.CONTRACTOR),
        manager=kwargs.pop("manager", None),
        **kwargs,
    )


def _link_parts(message) -> tuple[str, str, str]:
    found = re.search(r"(https?://\S+)", message.body)
    assert found is not None, message.body
    url = found.group(1)
    parts = url.rstrip("/").split("/")
    return parts[-3], parts[-2], parts[-1]


def _link_user(message) -> User | None:
    purpose, uidb64, token = _link_parts(message)
    return password_link_user(purpose=purpose, uidb64=uidb64, token=token)


def test_an_invitation_creates_a_person_without_a_password_and_emails_a_link(
    staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite(staff_user, email=" New@ABCinc.example ", manager=staff_user)
    person.refresh_from_db()
    assert person.email == "new@abcinc.example"
    assert not person.has_usable_password() and person.invited_at is not None
    assert person.status == "invited" and person.manager == staff_user
    [message] = mail.outbox
    assert message.to == ["new@abcinc.example"]
    assert "72 hours" in message.body and "Ada Admin" in message.body
    assert _link_user(message) == person
    entry = AuditEntry.objects.get(action="user.invite")
    assert entry.actor == staff_user and entry.after is not None
    assert entry.after["email"] == "new@abcinc.example"


def test_an_existing_email_is_refused_and_nothing_is_sent(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        _invite(email="ALICE@abcinc.example")
    assert "already exists" in str(refused.value.message_dict["email"])
    assert mail.outbox == [] and User.objects.count() == 1
    assert not AuditEntry.objects.filter(action="user.invite").exists()


def test_a_failing_setup_creates_nobody_and_sends_nothing(django_capture_on_commit_callbacks):
    def setup(person: User) -> None:
        raise ValidationError("group refused")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        _invite(setup=setup)
    assert not User.objects.filter(email="new@abcinc.example").exists()
    assert mail.outbox == []


def test_resend_sends_a_new_link_and_the_old_one_stops_working(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(actor=None, user=person)
    first, second = mail.outbox
    assert _link_user(first) is None
    assert _link_user(second) == person
    assert AuditEntry.objects.filter(action="user.invitation_resend").count() == 1


def test_revoke_makes_the_links_useless(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite()
    services.invitation_revoke(actor=None, user=person)
    person.refresh_from_db()
    assert _link_user(mail.outbox[0]) is None
    assert person.invited_at is None and person.status == "invited"
    with pytest.raises(ValidationError, match="no pending invitation"):
        services.invitation_revoke(actor=None, user=person)


def test_no_invitation_for_someone_with_a_password(user):
    with pytest.raises(ValidationError, match="already set a password"):
        services.invitation_resend(actor=None, user=user)


def test_an_invitation_link_is_not_a_reset_link(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite()
    _, uidb64, token = _link_parts(mail.outbox[0])
    assert password_link_user(purpose="reset", uidb64=uidb64, token=token) is None
    assert person.pk


def test_a_reset_link_is_emailed_and_audited_and_the_password_stays(
    user, password, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_send(actor=staff_user, user=user)
    [message] = mail.outbox
    assert message.to == [user.email] and "1 hour" in message.body
    assert "An administrator" in message.body and password not in message.body
    assert _link_user(message) == user
    user.refresh_from_db()
    assert user.check_password(password)
    assert AuditEntry.objects.get(action="user.password_reset_sent").actor == staff_user


def test_no_reset_link_for_the_blocked_or_the_invited(user, django_capture_on_commit_callbacks):
    services.user_deactivate(actor=None, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite()
    with pytest.raises(ValidationError, match="blocked"):
        services.password_reset_send(actor=None, user=user)
    with pytest.raises(ValidationError, match="resend the invitation"):
        services.password_reset_send(actor=None, user=person)
    assert len(mail.outbox) == 1  # the invitation only


def test_a_blocked_persons_invitation_link_stops_working(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = _invite()
    services.user_deactivate(actor=None, user=person)
    assert person.status == "blocked"
    assert _link_user(mail.outbox[0]) is None


# --- Deletion: a tombstone ------------------------------------------------------------------


def test_delete_leaves_a_tombstone_that_keeps_name_and_email(user, staff_user, password):
    report = User.objects.create_user(email="report@abcinc.example", manager=user)
    http = HttpClient()
    http.force_login(user)
    revoked: list[User] = []

    def revoke(*, user: User) -> int:
        revoked.append(user)
        return 3

    services.user_delete(actor=staff_user, user=user, revoke_access=revoke)
    user.refresh_from_db()
    assert user.status == "deleted" and user.deleted_at is not None
    assert user.name == "Alice Anders" and user.former_email == "alice@abcinc.example"
    assert user.email.endswith("@deleted.invalid") and str(user) == "alice@abcinc.example (deleted)"
    assert not user.is_active and not user.has_usable_password() and not user.check_password(password)
    assert user.picture == "" and revoked == [user]
    report.refresh_from_db()
    assert report.manager is None
    assert http.get("/account/").status_code == HTTPStatus.FOUND  # its session ended: to sign in
    entry = AuditEntry.objects.get(action="user.delete")
    assert entry.before is not None and entry.before["email"] == "alice@abcinc.example"
    assert entry.after is not None and entry.after["grants_revoked"] == 3
    assert entry.target_id == str(user.pk)


def test_the_email_of_a_deleted_person_can_be_invited_again(user, django_capture_on_commit_callbacks):
    services.user_delete(actor=None, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        again = _invite(email="alice@abcinc.example")
    assert again.pk != user.pk and again.status == "invited"
    assert User.objects.get(email="alice@abcinc.example") == again


def test_nobody_deletes_themselves_nor_a_tombstone_twice(user, staff_user):
    with pytest.raises(ValidationError, match="cannot delete yourself"):
        services.user_delete(actor=staff_user, user=staff_user)
    services.user_delete(actor=None, user=user)
    with pytest.raises(ValidationError, match="already deleted"):
        services.user_delete(actor=None, user=user)


def test_a_tombstone_cannot_be_unblocked_nor_sign_in(user, password):
    services.user_delete(actor=None, user=user)
    with pytest.raises(ValidationError, match="cannot be unblocked"):
        services.user_reactivate(actor=None, user=user)
    response = HttpClient().post("/login/", {"username": "alice@abcinc.example", "password": password})
    assert response.status_code == HTTPStatus.OK  # the form again, with its error


def test_the_database_refuses_a_deleted_person_who_can_sign_in(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(deleted_at=timezone.now())


def test_an_invitation_to_a_malformed_address_is_refused_on_its_field(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        _invite(email="not an address")
    assert "email" in refused.value.message_dict
    assert not User.objects.exclude(email__contains="@abcinc").exists() and mail.outbox == []


def test_a_tombstone_cannot_be_made_staff(user, staff_user):
    services.user_delete(actor=None, user=user)
    with pytest.raises(PermissionDenied, match="deleted person"):
        services.user_set_staff_role(actor=staff_user, user=user, role=User.StaffRole.ADMIN)
    user.refresh_from_db()
    assert not user.is_staff
