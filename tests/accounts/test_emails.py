"""accounts.emails: rendered in plain text and HTML, sent after commit, retried on SMTP errors."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from accounts import emails
from accounts.self_service import password_link_send
from accounts.tasks import email_deliver_task
from config.settings.email_url import email_url_settings as _email_url


def _send(user) -> None:
    emails.email_send(
        to=user.email,
        subject="Reset your password",
        template="password_reset",
        context={"user": user, "link": "http://testserver/x", "expires_in": "1 hour"},
    )


def test_sent_after_commit_in_text_and_html(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _send(user)
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    [message] = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    assert message.to == [user.email]
    assert "http://testserver/x" in message.body
    assert "ABC Inc. Identity" in message.body
    html, mimetype = message.alternatives[0]
    assert isinstance(html, str)
    assert mimetype == "text/html"
    assert 'href="http://testserver/x"' in html


@pytest.mark.django_db(transaction=True)
def test_nothing_sent_when_the_transaction_rolls_back(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        _send(user)
        raise RuntimeError
    assert mail.outbox == []


def test_html_is_escaped(user, django_capture_on_commit_callbacks):
    user.name = "<script>x</script>"
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    [message] = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "<script>x" not in html


def test_smtp_errors_are_retried(monkeypatch, settings):
    calls: list[int] = []

    def flaky(**kwargs) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("accounts.tasks.email_deliver", flaky)
    # Not propagating: a worker's behaviour (a Retry is re-queued; here re-applied at once).
    conf = email_deliver_task.app.conf
    propagates, conf.task_eager_propagates = conf.task_eager_propagates, False
    try:
        result = email_deliver_task.apply(
            kwargs={"to": "a@b.example", "subject": "s", "text": "t", "html": "h"}
        )
    finally:
        conf.task_eager_propagates = propagates
    assert result.successful()
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_a_failing_server_does_not_break_the_committed_action(user, monkeypatch, caplog):
    def down(**kwargs) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr("accounts.tasks.email_deliver", down)
    with transaction.atomic():
        _send(user)
    # Eager Celery (no broker) has no one to retry later: the failure is logged, the
    # committed action stands.
    assert "Error calling" in caplog.text


def test_email_url_smtp_with_starttls():
    parsed = _email_url("smtp://mailer%40abc:p%3Ass@smtp.abcinc.example:587?tls=1")
    assert parsed["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert parsed["EMAIL_HOST"] == "smtp.abcinc.example"
    assert parsed["EMAIL_PORT"] == 587
    assert parsed["EMAIL_HOST_USER"] == "mailer@abc"
    assert parsed["EMAIL_HOST_PASSWORD"] == "p:ss"
    assert parsed["EMAIL_USE_TLS"] is True
    assert parsed["EMAIL_USE_SSL"] is False


def test_email_url_smtps_is_implicit_tls():
    parsed = _email_url("smtps://smtp.abcinc.example")
    assert parsed["EMAIL_PORT"] == 465
    assert parsed["EMAIL_USE_SSL"] is True
    assert parsed["EMAIL_USE_TLS"] is False


def test_email_url_refuses_other_schemes():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        _email_url("http://smtp.abcinc.example")


@pytest.mark.parametrize(
    ("purpose", "template", "says"),
    [
        ("invitation", "invitation", "Ada Admin invited you to ABC Inc. Identity"),
        ("reset", "password_reset_admin", "An administrator asked us"),
        ("reset", "password_reset", "Someone (we hope you) asked"),
    ],
)
def test_password_link_emails_name_the_link_and_its_lifetime(
    user, purpose, template, says, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        password_link_send(
            user=user, purpose=purpose, subject="s", template=template, context={"invited_by": "Ada Admin"}
        )
    [message] = mail.outbox
    lifetime = "72 hours" if purpose == "invitation" else "1 hour"
    assert says in str(message.body)
    assert f"expires in {lifetime}" in str(message.body)
    assert f"http://testserver/password/set/{purpose}/" in str(message.body)
