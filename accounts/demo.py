"""Demo people of ABC Inc. for ``manage.py seed_demo``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from .models import User

DEMO_DOMAIN = "abcinc.example"


@dataclass(frozen=True)
class DemoPerson:
    local_part: str
    name: str
    worker_type: str = User.WorkerType.EMPLOYEE
    is_staff: bool = False
    reports_to: str | None = None

    @property
    def email(self) -> str:
        return f"{self.local_part}@{DEMO_DOMAIN}"


DEMO_PEOPLE = [
    DemoPerson("admin", "Ada Admin", is_staff=True),
    DemoPerson("manager", "Morgan Manager"),
    DemoPerson("alice", "Alice Anders", reports_to="manager"),
    DemoPerson("bob", "Bob Brown", reports_to="manager"),
    DemoPerson("carol", "Carol Chen", reports_to="manager"),
    DemoPerson("dave", "Dave Duarte", worker_type=User.WorkerType.CONTRACTOR, reports_to="manager"),
]


@transaction.atomic
def seed_users(*, password: str | None) -> dict[str, str]:
    """Create or update the demo people; return the passwords that were generated.

    With ``password``, every demo person gets it. Without, people created now get a
    generated password (returned so it can be shown once) and existing people keep theirs.
    """
    generated: dict[str, str] = {}
    by_local_part: dict[str, User] = {}
    for person in DEMO_PEOPLE:  # managers come before their reports
        manager = by_local_part[person.reports_to] if person.reports_to else None
        user, created = User.objects.update_or_create(
            email=person.email,
            defaults={
                "name": person.name,
                "nickname": person.local_part,
                "worker_type": person.worker_type,
                "is_staff": person.is_staff,
                "email_verified": True,
                "is_active": True,
                "manager": manager,
            },
        )
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif created:
            generated[user.email] = secrets.token_urlsafe(12)
            user.set_password(generated[user.email])
            user.save(update_fields=["password"])
        by_local_part[person.local_part] = user
    return generated
