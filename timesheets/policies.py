"""Who may see and decide on whose time: one policy for the API and the web pages."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from accounts.models import User
from apis.selectors import api_by_identifier
from authz.selectors import user_permission_values

from .scopes import APPROVE


def is_approver(user: User) -> bool:
    """For the web pages: does the person's effective permissions include approving?"""
    api = api_by_identifier(settings.TIMESHEETS_API_AUDIENCE)
    if api is None:
        return False
    if not api.rbac_enabled:
        return user.is_staff
    return APPROVE in user_permission_values(user, api)


def approvable_workers(approver: User) -> Q:
    """Whose entries an approver sees and decides: their reports, or everyone for admins."""
    if approver.is_staff:
        return Q()
    return Q(worker__manager=approver)


def client_readable_entries() -> Q:
    """Whose entries a machine client with ``read:timesheets`` reads: everyone's.

    A batch client (client credentials) acts for the organization, not for a person: it
    reads every entry to export payroll. It never writes as someone or decides; those
    operations stay with people.
    """
    return Q()


def may_decide(approver: User, worker: User) -> bool:
    """Approving one's own time is never allowed; otherwise reports, or anyone for admins."""
    if approver.pk == worker.pk:
        return False
    return approver.is_staff or worker.manager_id == approver.pk
