"""Load ABC Inc.'s demo data. Safe to run again: it converges on the same state."""

from __future__ import annotations

import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.demo import DEMO_PEOPLE, seed_users
from apis.demo import seed_timesheets_api


class Command(BaseCommand):
    help = "Create or update the ABC Inc. demo users (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD") or None,
            help="Password for every demo user (default: $DEMO_PASSWORD; else generated for new users).",
        )

    def handle(self, *args, password: str | None, **options) -> None:
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("The demo password is too weak: " + " ".join(error.messages)) from error

        generated = seed_users(password=password)
        api = seed_timesheets_api()

        self.stdout.write(self.style.SUCCESS(f"Demo users ready ({len(DEMO_PEOPLE)} people)."))
        for person in DEMO_PEOPLE:
            secret = password if password is not None else generated.get(person.email, "(unchanged)")
            role = "staff" if person.is_staff else person.worker_type
            self.stdout.write(f"  {person.email:<28} {role:<11} password: {secret}")
        if generated:
            self.stdout.write(self.style.WARNING("Generated passwords are shown only this once."))
        scopes = ", ".join(api.scopes.values_list("value", flat=True))
        self.stdout.write(self.style.SUCCESS(f"{api.name} ready: audience {api.identifier} ({scopes})."))
