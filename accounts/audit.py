"""The audit log: every service that changes configuration records what it did here.

Services take the ``actor`` explicitly; the client's IP address and user agent are not
something a service should have to thread through, so a middleware puts them in context
variables, as ``accounts.request_id`` holds the request's id.
A machine client calling the Management API acts without a person: the API names it in
another context variable, and its entries read ``client:<client id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse

from .models import AuditEntry, User
from .request_id import current_request_id
from .throttle import client_ip

_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)
_user_agent: ContextVar[str] = ContextVar("audit_user_agent", default="")
_acting_client: ContextVar[str | None] = ContextVar("audit_acting_client", default=None)

CLIENT_ACTOR_PREFIX = "client:"
USER_AGENT_MAX = 300


def client_acting_begin(client_id: str) -> Token[str | None]:
    """From now until ``client_acting_end``, changes made without a person are the client
    ``client_id``'s (a view sets it once it knows who called, and ends it with the response)."""
    return _acting_client.set(client_id)


def client_acting_end(token: Token[str | None]) -> None:
    _acting_client.reset(token)


@contextmanager
def acting_client(client_id: str) -> Iterator[None]:
    """Within this block, changes made without a person are the client ``client_id``'s."""
    token = client_acting_begin(client_id)
    try:
        yield
    finally:
        client_acting_end(token)


def _actor_label(actor: User | None) -> str:
    if actor is not None and actor.pk:
        return actor.email
    client_id = _acting_client.get()
    return f"{CLIENT_ACTOR_PREFIX}{client_id}" if client_id else "system"


def snapshot(instance: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """A JSON-friendly picture of ``fields`` of ``instance``, for before/after."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(_plain(item) for item in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_label: str = "",
    client_id: str = "",
    audience: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry. Call it inside the service's transaction: no change without a trace.

    ``client_id`` and ``audience`` name the application and API the entry concerns (for the
    logs page's filters); an application or API as ``target`` names itself. Never a token,
    code or secret in ``details``.
    """
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(target_label or str(target or ""))[:200],
        before=before,
        after=after,
        ip=_client_ip.get(),
        user_agent=_user_agent.get(),
        client_id=(client_id or _target_attribute(target, "clients.client", "client_id"))[:100],
        audience=(audience or _target_attribute(target, "apis.api", "identifier"))[:200],
        details=details,
        request_id=current_request_id(),
    )


def _target_attribute(target: models.Model | None, label: str, name: str) -> str:
    # accounts imports no app above it: the application or API is recognised by its label.
    if target is None or target._meta.label_lower != label:
        return ""
    return str(getattr(target, name, "") or "")


def request_context() -> tuple[str | None, str]:
    """The address and user agent of the request being answered (None and "" outside one)."""
    return _client_ip.get(), _user_agent.get()


class AuditContextMiddleware:
    """Make the client's address (through trusted proxies) and user agent available to
    audit_record during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(client_ip(request))
        agent = _user_agent.set(request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX])
        try:
            return self.get_response(request)
        finally:
            _user_agent.reset(agent)
            _client_ip.reset(token)
