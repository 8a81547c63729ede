"""Bulk invitations from a CSV file (email, name, worker_type, manager_email, groups), like
Auth0's user import jobs: the whole file is checked first, and any bad row stops it with
every error listed; then a Celery job invites each person, reporting its progress.

The job is idempotent on email: a person who already exists is skipped, so running the same
file again (after a failure half-way, say) only invites the ones still missing. Its
progress lives in the cache, for the progress bar: the people and the audit log are the
record of what it did.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.audit import audit_record
from accounts.identifiers import login_identifier
from accounts.models import User
from accounts.services import user_invite, user_update_profile

from .models import Group
from .services import group_add_member

COLUMNS = ("email", "name", "worker_type", "manager_email", "groups")
MAX_ROWS = 5000
PROGRESS_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ImportRow:
    """One person of the file, checked."""

    email: str
    name: str
    worker_type: str
    manager_email: str
    groups: tuple[str, ...]


def _worker_type(value: str) -> str | None:
    wanted = value.strip().lower() or User.WorkerType.EMPLOYEE
    for choice, label in User.WorkerType.choices:
        if wanted in (choice, label.lower()):
            return choice
    return None


def _row_errors(number: int, row: dict[str, str], seen: set[str], groups: set[str]) -> list[str]:
    errors = []
    email = login_identifier(row.get("email") or "")
    try:
        validate_email(email)
    except ValidationError:
        errors.append(f"Line {number}: “{email}” is not an email address.")
    if email in seen:
        errors.append(f"Line {number}: {email} is in the file twice.")
    if _worker_type(row.get("worker_type") or "") is None:
        choices = ", ".join(User.WorkerType.values)
        errors.append(f"Line {number}: the worker type must be one of {choices}.")
    if len((row.get("name") or "").strip()) > User._meta.get_field("name").max_length:  # type: ignore[operator]
        errors.append(f"Line {number}: the name is too long.")
    errors += [
        f"Line {number}: there is no group “{name}”." for name in _group_names(row) if name not in groups
    ]
    return errors


def _group_names(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(name.strip() for name in (row.get("groups") or "").split(";") if name.strip())


def people_import_parse(text: str) -> tuple[list[ImportRow], list[str]]:
    """The file's people, or every error in it (then no row is usable). Groups are
    separated by semicolons; a manager is someone who exists or a person of the file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in ("email", "name") if column not in (reader.fieldnames or [])]
    if missing:
        return [], [
            f"The first line must name the columns {', '.join(COLUMNS)}: {', '.join(missing)} is missing."
        ]
    groups = set(Group.objects.values_list("name", flat=True))
    rows: list[ImportRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    for row in reader:
        number = reader.line_num
        if len(rows) >= MAX_ROWS:
            return [], [f"The file has more than {MAX_ROWS} people: split it."]
        errors += _row_errors(number, row, seen, groups)
        email = login_identifier(row.get("email") or "")
        seen.add(email)
        rows.append(
            ImportRow(
                email=email,
                name=(row.get("name") or "").strip(),
                worker_type=_worker_type(row.get("worker_type") or "") or "",
                manager_email=login_identifier(row.get("manager_email") or ""),
                groups=_group_names(row),
            )
        )
    errors += _manager_errors(rows, seen)
    if not rows and not errors:
        errors.append("The file has no people in it.")
    return ([] if errors else rows), errors


def _manager_errors(rows: list[ImportRow], in_file: set[str]) -> list[str]:
    wanted = {row.manager_email for row in rows if row.manager_email} - in_file
    existing = set(
        User.objects.filter(email__in=wanted, deleted_at__isnull=True).values_list("email", flat=True)
    )
    return [
        f"The manager {email} is neither in the file nor a person here."
        for email in sorted(wanted - existing)
    ] + [f"{row.email} cannot manage themselves." for row in rows if row.manager_email == row.email]


def people_import_progress(job: str) -> dict[str, Any] | None:
    """The job's progress: ``total``, ``done``, ``created``, ``skipped``, ``finished``."""
    return cache.get(f"people-import:{job}")


def _progress(job: str, **state: Any) -> None:
    cache.set(f"people-import:{job}", state, PROGRESS_SECONDS)


def people_import_start(*, actor: User, rows: list[ImportRow]) -> str:
    """Queue the invitations of ``rows`` (checked by ``people_import_parse``); the job's id."""
    # The task module imports this one: imported here, the cycle stays out of module loading.
    from .tasks import people_import_task

    job = uuid.uuid4().hex
    _progress(job, total=len(rows), done=0, created=0, skipped=0, finished=False)
    with transaction.atomic():
        audit_record(
            actor=actor, action="user.import_start", target_label=f"{len(rows)} people", after={"job": job}
        )
        payload = [asdict(row) for row in rows]
        transaction.on_commit(lambda: people_import_task.delay(job=job, actor_id=actor.pk, rows=payload))
    return job


def people_import_run(*, job: str, actor_id: int, rows: list[dict[str, Any]]) -> None:
    """Invite each person not already here, then give the new ones their managers (who may
    be further down the file). Each person is one transaction: what is done stays done."""
    actor = User.objects.filter(pk=actor_id).first()
    groups = {group.name: group for group in Group.objects.all()}
    created: list[tuple[User, str]] = []
    skipped = 0
    for done, row in enumerate(rows, 1):
        person = None
        if not User.objects.filter(email__iexact=row["email"]).exists():
            person = _invite(actor, row, groups)
        if person is None:
            skipped += 1
        else:
            created.append((person, row["manager_email"]))
        _progress(job, total=len(rows), done=done, created=len(created), skipped=skipped, finished=False)
    for person, manager_email in created:
        manager = (
            manager_email
            and User.objects.filter(email__iexact=manager_email, deleted_at__isnull=True).first()
        )
        if manager:
            user_update_profile(
                actor=actor,
                user=person,
                name=person.name,
                nickname=person.nickname,
                picture=person.picture,
                worker_type=person.worker_type,
                manager=manager,
            )
    _progress(job, total=len(rows), done=len(rows), created=len(created), skipped=skipped, finished=True)


def _invite(actor: User | None, row: dict[str, Any], groups: dict[str, Group]) -> User | None:
    """Invite the row's person into their groups; None if someone took the address since."""

    def join_groups(person: User) -> None:
        for name in row["groups"]:
            group_add_member(actor=actor, group=groups[name], user=person)

    try:
        return user_invite(
            actor=actor,
            email=row["email"],
            name=row["name"],
            worker_type=row["worker_type"],
            manager=None,
            setup=join_groups,
        )
    except (ValidationError, KeyError):  # a group deleted since the file was checked
        return None
