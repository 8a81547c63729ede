"""The step after a correct password: sign in, or ask for a second factor, or enrol one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ..models import User
from .context import PASSWORD, pending_begin, sign_in_complete
from .policy import mfa_required
from .selectors import has_second_factor


def password_checked(
    request: HttpRequest, user: User, *, next_url: str, backend: str | None = None
) -> HttpResponse:
    """``user`` gave the right password. A person with a second factor proves it next
    (``accounts:mfa_verify``); one who must have one and has none enrols first
    (``accounts:mfa_enrol``, Keycloak's required action); anyone else is signed in."""
    if has_second_factor(user):
        pending_begin(request, user, methods=[PASSWORD], next_url=next_url)
        return redirect("accounts:mfa_verify")
    if mfa_required(user):
        pending_begin(request, user, methods=[PASSWORD], next_url=next_url)
        return redirect("accounts:mfa_enrol")
    sign_in_complete(request, user, [PASSWORD], backend=backend)
    return redirect(next_url)
