"""Load ABC Inc.'s demo data. Safe to run again: it converges on the same state."""

from __future__ import annotations

import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from accounts.demo import DEMO_PEOPLE, seed_users
from accounts.models import User
from authz.mfa import mfa_policy
from authz.models import MfaPolicy
from timesheets.demo import (
    BATCH_CLIENT_ID,
    MOBILE_CLIENT_ID,
    seed_roles_and_groups,
    seed_timesheets_api,
    seed_timesheets_clients,
)

MIN_CLIENT_SECRET_LENGTH = 32


class Command(BaseCommand):
    help = "Create or update the ABC Inc. demo users (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD") or None,
            help="Password for every demo user (default: $DEMO_PASSWORD; else generated for new users).",
        )
        parser.add_argument(
            "--client-secret",
            default=os.environ.get("DEMO_CLIENT_SECRET") or None,
            help="Secret of the timesheets-batch client (default: $DEMO_CLIENT_SECRET; else generated once).",
        )

    def handle(self, *args, password: str | None, client_secret: str | None, **options) -> None:
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("The demo password is too weak: " + " ".join(error.messages)) from error

        if client_secret is not None and len(client_secret) < MIN_CLIENT_SECRET_LENGTH:
            raise CommandError(
                f"The demo client secret needs at least {MIN_CLIENT_SECRET_LENGTH} characters."
            )

        generated = seed_users(password=password)
        api = seed_timesheets_api()
        generated_secret = seed_timesheets_clients(api=api, batch_secret=client_secret)
        demo = User.objects.filter(email__in=[person.email for person in DEMO_PEOPLE])
        seed_roles_and_groups(
            api=api,
            workers=list(demo.exclude(is_staff=True)),
            managers=list(demo.filter(email="manager@abcinc.example")),
        )

        self.stdout.write(self.style.SUCCESS(f"Demo users ready ({len(DEMO_PEOPLE)} people)."))
        for person in DEMO_PEOPLE:
            secret = password if password is not None else generated.get(person.email, "(unchanged)")
            role = "staff" if person.is_staff else person.worker_type
            self.stdout.write(f"  {person.email:<28} {role:<11} password: {secret}")
        if generated:
            self.stdout.write(self.style.WARNING("Generated passwords are shown only this once."))
        scopes = ", ".join(api.scopes.values_list("value", flat=True))
        self.stdout.write(self.style.SUCCESS(f"{api.name} ready: audience {api.identifier} ({scopes})."))
        self.stdout.write(
            self.style.SUCCESS(f"Applications ready: {MOBILE_CLIENT_ID} (native), {BATCH_CLIENT_ID} (M2M).")
        )
        self.stdout.write(
            self.style.SUCCESS("Roles and groups ready: All Staff (Timesheet User) ⊃ Managers (Approver).")
        )
        batch_secret = client_secret or generated_secret
        if batch_secret:
            self.stdout.write(f"  {BATCH_CLIENT_ID} client secret: {batch_secret}")
        if generated_secret:
            self.stdout.write(self.style.WARNING("The generated client secret is shown only this once."))
        self._mfa_hint()

    def _mfa_hint(self) -> None:
        """The demo leaves multi-factor sign-in as it finds it: off on a new database, so that
        signing in stays a password; whoever turned it on keeps it on."""
        policy, url = mfa_policy(), reverse("mfa:policy")
        if policy.mode == MfaPolicy.Mode.NEVER:
            self.stdout.write(
                f"MFA: off. Turn on 'required for staff' at {url} (README: Multi-factor sign-in)."
            )
        else:
            self.stdout.write(f"MFA: {policy.get_mode_display().lower()} (change it at {url}).")
