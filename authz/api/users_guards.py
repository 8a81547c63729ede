"""What the Management API refuses about people that the dashboard rules out by what it shows.

The dashboard offers no form on a tombstone's page, and its "not yourself" check means the
administrator at the keyboard always remains. A machine client has neither a page nor a
self, so these two invariants are checked here, before the same services are called, and
answered 409.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q

from accounts.errors import Conflict
from accounts.models import User

from .users_selectors import user_by_id

ADMINISTRATORS = Q(is_active=True, is_staff=True, staff_role=User.StaffRole.ADMIN, deleted_at__isnull=True)


def refuse_tombstone(person: User) -> None:
    if person.deleted_at is not None:
        raise Conflict("This person is deleted: a tombstone keeps its records and cannot be changed.")


def person_for_write(user_id: UUID | str) -> User:
    """The person, locked for the caller's transaction, or 404; 409 for a tombstone."""
    person = user_by_id(user_id, queryset=User.objects.select_for_update())
    refuse_tombstone(person)
    return person


def keep_an_administrator(person: User) -> None:
    """Refuse to block or delete the last active dashboard administrator: nobody could then
    manage the dashboard (or give anyone staff access again). Every administrator's row is
    locked, so two concurrent requests cannot each remove one of the last two."""
    if not person.is_dashboard_admin:
        return
    admins = set(User.objects.select_for_update().filter(ADMINISTRATORS).values_list("pk", flat=True))
    if not admins - {person.pk}:
        raise Conflict(
            f"{person.email} is the last administrator of the dashboard: make someone else an "
            "administrator first."
        )
