"""The bench's "events off" server: production's WSGI application with the token endpoint's
event recording taken out, for the A/B of bench/events.py. Bench only: no setting or code
path of the project switches events off; this module does it from outside, in the second
gunicorn's workers only (``gunicorn … "bench.events_off:wsgi()"``).

Taken out are the token endpoint's single call site (``token_request_record``, imported by
name into ``authz.oauth.views``) and the after-response check whether buffered events are
due (``accounts.events.flush_when_due`` on ``request_finished``). With both gone a token
request does no event work at all. A missing name fails the worker's start (and so the
bench's start of that server) rather than measuring events "off" that are still on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EVENTS_RECEIVER = "accounts.events"  # flush_when_due's dispatch_uid


def _record_nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def switch_off() -> Callable[[], None]:
    """Take the token endpoint's events out of this process; returns what puts them back."""
    from django.core.signals import request_finished

    from accounts import events
    from authz.oauth import views

    stale = "bench/events_off.py is out of date"
    original = getattr(views, "token_request_record", None)
    if original is None:
        raise RuntimeError(f"authz.oauth.views has no token_request_record: {stale}")
    if not request_finished.disconnect(dispatch_uid=EVENTS_RECEIVER):
        raise RuntimeError(f"no request_finished receiver {EVENTS_RECEIVER!r}: {stale}")
    views.token_request_record = _record_nothing

    def restore() -> None:
        views.token_request_record = original
        request_finished.connect(events.flush_when_due, dispatch_uid=EVENTS_RECEIVER)

    return restore


def wsgi() -> Any:
    """gunicorn's application factory: production's application, events switched off."""
    from config.wsgi import application  # django.setup() with the server's settings

    switch_off()
    return application
