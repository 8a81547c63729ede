"""Email to people: rendered from ``templates/emails/<name>.txt`` and ``.html``, sent through
Django's email framework by a Celery task once the current transaction commits.

Rendering happens in the caller (the context may hold models; the task receives strings),
so a message describes the state that was committed, and a rolled-back action sends nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def email_render(*, template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``templates/emails/<template>``."""
    full_context = {"product_name": settings.PRODUCT_NAME, **context}
    text = render_to_string(f"emails/{template}.txt", full_context)
    html = render_to_string(f"emails/{template}.html", full_context)
    return text, html


def email_send(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """Render templates/emails/<template>.txt and <template>.html with ``context`` (plus the
    product name) and send it after the current transaction commits, by a Celery task with
    retries (eager without a broker)."""
    # The task module imports this one for email_deliver: importing it here, not at the top,
    # keeps the cycle out of module loading.
    from .tasks import email_deliver_task

    text, html = email_render(template=template, context=context)

    def enqueue() -> None:
        email_deliver_task.delay(to=to, subject=subject, text=text, html=html)

    # robust: a mail server that is down (eager Celery, no broker) is logged, never turned
    # into an error page for an action that has already committed. (A named function, not a
    # partial: Django logs the callback's __qualname__.)
    transaction.on_commit(enqueue, robust=True)


def email_deliver(*, to: str, subject: str, text: str, html: str) -> None:
    """Hand one message to the configured backend (SMTP errors propagate, for the retries)."""
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Email %r sent", subject)
