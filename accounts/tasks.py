"""Celery tasks of ``accounts``: thin wrappers around a service."""

from __future__ import annotations

import smtplib

from celery import shared_task

from .emails import email_deliver
from .self_service import password_reset_request


# OSError covers a refused or timed-out connection; SMTPException a server's refusal.
@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def email_deliver_task(*, to: str, subject: str, text: str, html: str) -> None:
    email_deliver(to=to, subject=subject, text=text, html=html)


@shared_task
def password_reset_request_task(email: str) -> None:
    password_reset_request(email=email)
