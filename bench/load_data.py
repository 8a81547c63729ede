"""Bulk data for `make bench`, run after `manage.py seed_demo` with the server's settings.

    python bench/load_data.py [--users 10000] [--clients 10] [--entries 250] [--entries-for EMAIL]
    python bench/load_data.py --users 0 --entries 0 --extend-grants 620

Grows the data to: USERS bulk people (``bench-0000001@load.abcinc.example`` …), all with one
unusable-for-login password hash computed once (on PostgreSQL through COPY: a million in
about a minute; elsewhere bulk_create); CLIENTS extra machine clients (``bench-m2m-00001`` …),
each with a client grant (read:timesheets) on the Timesheets API and one secret hash computed
once; ENTRIES timesheet entries (one a day, going back from today) for one demo worker. What
exists already stays, so running it again with larger counts grows the data (BENCH_SCALE=1
does). After growing, PostgreSQL's statistics are refreshed (VACUUM ANALYZE): the planner
sees the new sizes and autovacuum does not start in the middle of a measured run.

It also registers an API like the Timesheets one but signing with ES256 (when the project
has ``Api.Algorithm.ES256``) with a grant for timesheets-batch, and prints
``bench feature: es256=ok`` or why not: the cc_form_es256 scenario runs only with it.

``--extend-grants SECONDS`` moves the expiry of every unexpired authorization code (DOT's
``Grant``) to SECONDS from now. Codes live 60 s, and the bench mints thousands through
/authorize before spending them; the exchange still checks the expiry as always.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BULK_DOMAIN = "load.abcinc.example"
CLIENT_PREFIX = "bench-m2m-"
PROJECTS = ["Apollo", "Gemini", "Mercury", "Payroll", "Support"]
CHUNK = 10_000  # rows built in memory at a time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=0)
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
    if not args.users and not args.entries and not args.clients:
        return 0
    added_users, users = add_users(args.users)
    added_clients, clients = add_clients(args.clients)
    added_entries, entries = add_entries(args.entries_for, args.entries)
    if added_users or added_clients:
        analyze()
    print(f"bench feature: es256={add_es256_api()}")
    print(
        f"bench data: {added_users} users added ({users} in all), {added_clients} machine clients added "
        f"({clients} in all), {added_entries} entries added for {args.entries_for} ({entries} in all)"
    )
    return 0


def extend_grants(seconds: int) -> int:
    """Every unexpired authorization code now expires ``seconds`` from now; how many."""
    from django.utils import timezone
    from oauth2_provider.models import get_grant_model

    now = timezone.now()
    return get_grant_model().objects.filter(expires__gt=now).update(expires=now + timedelta(seconds=seconds))


def add_users(count: int) -> tuple[int, int]:
    """Bulk people up to ``count`` of them: (added, users in all). They are numbered from 1, so
    those that exist are the first ones."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import User

    bulk = User.objects.filter(email__endswith="@" + BULK_DOMAIN)
    numbers = range(bulk.count() + 1, count + 1)
    # Nobody signs in as these people: one unusable hash, not one PBKDF2 run each.
    password = make_password(None)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            copy_rows(User, map(bulk_user_fields, numbers), {"password": password, "email_verified": True})
        else:
            for start in range(numbers.start, numbers.stop, CHUNK):
                chunk = range(start, min(start + CHUNK, numbers.stop))
                User.objects.bulk_create(
                    [User(**bulk_user_fields(n), password=password, email_verified=True) for n in chunk],
                    batch_size=1000,
                )
    return len(numbers), User.objects.count()


def bulk_user_fields(number: int) -> dict[str, Any]:
    """What differs between two bulk people (the subject is unique too)."""
    return {
        "email": f"bench-{number:07d}@{BULK_DOMAIN}",
        "name": f"Load Tester {number:07d}",
        "nickname": f"load{number:07d}",
        "sub": uuid.uuid4(),
    }


def copy_rows(model: Any, rows: Iterator[dict[str, Any]], fixed: dict[str, Any]) -> None:
    """PostgreSQL's COPY of ``model`` rows: each row's own fields, ``fixed`` ones and the
    model's defaults for the others, as the ORM would save them (without signals, as
    bulk_create)."""
    from django.db import connection

    template = model(**fixed)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    defaults = {
        field.name: field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in fields
    }
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for own in rows:
            values = defaults | own
            copy.write_row([values[field.name] for field in fields])


def add_clients(count: int) -> tuple[int, int]:
    """Extra machine clients up to ``count``, each granted read:timesheets on the Timesheets
    API: (added, clients in all)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from oauth2_provider.settings import oauth2_settings

    from apis.models import Api, Scope
    from bench.options import AUDIENCE, READ_SCOPE
    from clients.models import Client, ClientGrant
    from clients.types import PROFILES

    existing = Client.objects.filter(client_id__startswith=CLIENT_PREFIX).count()
    numbers = range(existing + 1, count + 1)
    api = Api.objects.get(identifier=AUDIENCE)
    read = Scope.objects.get(api=api, value=READ_SCOPE)
    profile = PROFILES[Client.AppType.M2M]
    # Nobody authenticates as these clients: one hash (what DOT stores), not one per client.
    secret = make_password(secrets.token_urlsafe(32), hasher=oauth2_settings.CLIENT_SECRET_HASHER)
    through = ClientGrant.scopes.through
    with transaction.atomic():
        for start in range(numbers.start, numbers.stop, CHUNK):
            clients = Client.objects.bulk_create(
                [
                    Client(
                        app_type=Client.AppType.M2M,
                        name=f"Bench machine {number:05d}",
                        client_id=f"{CLIENT_PREFIX}{number:05d}",
                        client_type=profile.client_type,
                        authorization_grant_type=profile.grant_type,
                        token_endpoint_auth_method=profile.default_auth_method,
                        client_secret=secret,
                        hash_client_secret=True,
                        algorithm=Client.NO_ALGORITHM,
                    )
                    for number in range(start, min(start + CHUNK, numbers.stop))
                ],
                batch_size=1000,
            )
            grants = ClientGrant.objects.bulk_create([ClientGrant(client=c, api=api) for c in clients], 1000)
            through.objects.bulk_create([through(clientgrant=g, scope=read) for g in grants], batch_size=1000)
    return len(numbers), Client.objects.count()


def add_es256_api() -> str:
    """The Timesheets API's twin signing with ES256, granted to timesheets-batch: "ok", or why not."""
    from django.core.exceptions import ValidationError
    from django.db import DatabaseError

    from apis.models import Api
    from apis.services import api_create
    from bench.options import AUDIENCE, BATCH_CLIENT, ES256_AUDIENCE, READ_SCOPE
    from clients.models import Client
    from clients.services import client_grant_set

    if "ES256" not in Api.Algorithm.values:
        return "no ES256 signing in this project (Api.Algorithm has no ES256)"
    model = Api.objects.get(identifier=AUDIENCE)
    try:
        api = Api.objects.filter(identifier=ES256_AUDIENCE).first() or api_create(
            identifier=ES256_AUDIENCE,
            name="Timesheets API (ES256)",
            signing_algorithm="ES256",
            allow_offline_access=model.allow_offline_access,
            rbac_enabled=model.rbac_enabled,
            add_permissions_claim=model.add_permissions_claim,
            scopes={READ_SCOPE: "Read timesheets (ES256 twin)"},
        )
        client_grant_set(client=Client.objects.get(client_id=BATCH_CLIENT), api=api, scopes=[READ_SCOPE])
    except (ValidationError, DatabaseError) as error:
        return f"registering an ES256 API failed: {error}"
    return "ok"


def analyze() -> None:
    """Fresh planner statistics after a bulk load, and no autovacuum during the runs."""
    from django.db import connection

    from accounts.models import User
    from clients.models import Client, ClientGrant

    if connection.vendor != "postgresql":
        return
    tables: list[Any] = [User, Client, ClientGrant, ClientGrant.scopes.through]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


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
