"""Bulk data for `make bench`, run after `manage.py seed_demo` with the server's settings.

    python bench/load_data.py [--users 10000] [--entries 250] [--entries-for alice@abcinc.example]
    python bench/load_data.py --users 0 --entries 0 --extend-grants 620

Adds USERS people (``bench-00001@load.abcinc.example`` …) through the ORM's bulk_create,
all with one unusable-for-login password hash computed once, and ENTRIES timesheet entries
(one a day, going back from today) for one demo worker. Idempotent: users and entries that
exist already are left alone, so a second run adds nothing.

``--extend-grants SECONDS`` moves the expiry of every unexpired authorization code (DOT's
``Grant``) to SECONDS from now. Codes live 60 s, and the bench mints thousands through
/authorize before spending them; the exchange still checks the expiry as always.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK_DOMAIN = "load.abcinc.example"
PROJECTS = ["Apollo", "Gemini", "Mercury", "Payroll", "Support"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=250)
    parser.add_argument("--entries-for", default="alice@abcinc.example")
    parser.add_argument("--extend-grants", type=int, default=0, metavar="SECONDS")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    import django

    django.setup()

    if args.extend_grants:
        moved = extend_grants(args.extend_grants)
        print(f"bench data: {moved} authorization codes now expire in {args.extend_grants} s")
    if not args.users and not args.entries:
        return 0
    added_users, users = add_users(args.users)
    added_entries, entries = add_entries(args.entries_for, args.entries)
    print(
        f"bench data: {added_users} users added ({users} in all), "
        f"{added_entries} entries added for {args.entries_for} ({entries} in all)"
    )
    return 0


def extend_grants(seconds: int) -> int:
    """Every unexpired authorization code now expires ``seconds`` from now; how many."""
    from django.utils import timezone
    from oauth2_provider.models import get_grant_model

    now = timezone.now()
    return get_grant_model().objects.filter(expires__gt=now).update(expires=now + timedelta(seconds=seconds))


def add_users(count: int) -> tuple[int, int]:
    """The bulk people that do not exist yet: (added, users in all)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import User

    # Nobody signs in as these people: one unusable hash, not 10,000 PBKDF2 runs.
    password = make_password(None)
    existing = set(User.objects.filter(email__endswith="@" + BULK_DOMAIN).values_list("email", flat=True))
    new_users = [
        User(
            email=email,
            name=f"Load Tester {number:05d}",
            nickname=f"load{number:05d}",
            password=password,
            email_verified=True,
        )
        for number in range(1, count + 1)
        if (email := f"bench-{number:05d}@{BULK_DOMAIN}") not in existing
    ]
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=1000)
    return len(new_users), User.objects.count()


def add_entries(email: str, count: int) -> tuple[int, int]:
    """One entry a day going back from today, for the days without one: (added, in all)."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from timesheets.models import Entry

    worker = User.objects.get(email=email)
    today = timezone.localdate()
    taken = set(Entry.objects.filter(worker=worker).values_list("date", flat=True))
    statuses = [Entry.Status.DRAFT, Entry.Status.SUBMITTED, Entry.Status.APPROVED]
    entries = [
        Entry(
            worker=worker,
            date=day,
            project=PROJECTS[offset % len(PROJECTS)],
            minutes=450,
            notes=f"Bench entry {offset}",
            status=statuses[offset % len(statuses)],
            source=Entry.Source.WEB,
        )
        for offset in range(count)
        if (day := today - timedelta(days=offset)) not in taken
    ]
    with transaction.atomic():
        Entry.objects.bulk_create(entries, batch_size=1000)
    return len(entries), Entry.objects.filter(worker=worker).count()


if __name__ == "__main__":
    raise SystemExit(main())
