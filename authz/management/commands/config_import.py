"""``manage.py config_import FILE [--dry-run]``: make the configuration match an export.

Prints the plan (every change, line by line). Without ``--dry-run`` it then applies it, all
or nothing, audited as "system". An invalid file changes nothing: its problems go to
standard error, each with where it is in the file, and the exit status is 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from authz.transfer import ConfigInvalid, ImportPlan, Problem, apply_import, load_config, plan_import


def problems_of(error: ValidationError) -> list[Problem]:
    if isinstance(error, ConfigInvalid):
        return error.problems
    return [Problem("", message) for message in error.messages]


class Command(BaseCommand):
    help = "Import a configuration file made by config_export: show the changes, then apply them all or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="The JSON file to import ('-' for standard input).")
        parser.add_argument("--dry-run", action="store_true", help="Show the changes; write nothing.")

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            plan = plan_import(load_config(text))
            self.show(plan)
            if dry_run:
                self.stdout.write("Dry run: nothing was changed.")
                return
            result = apply_import(actor=None, plan=plan)
        except ValidationError as error:
            problems = problems_of(error)
            for problem in problems:
                self.stderr.write(f"{problem.path or '(file)'}: {problem.message}")
            count = len(problems)
            raise CommandError(
                f"{file} cannot be imported: {count} problem{'s' if count != 1 else ''}. Nothing was changed."
            ) from error
        count = len(result.changes)
        if count:
            self.stdout.write(self.style.SUCCESS(f"Applied {count} change{'s' if count != 1 else ''}."))
        for client_id, secret in sorted(result.secrets.items()):
            self.stdout.write(f"  {client_id} client secret: {secret}")
        if result.secrets:
            self.stdout.write(
                self.style.WARNING("New client secrets are shown only this once: store them now.")
            )

    def show(self, plan: ImportPlan) -> None:
        if not plan.changes:
            self.stdout.write("The configuration already matches the file: nothing to change.")
            return
        summary = plan.summary
        self.stdout.write(
            f"{summary['create']} to create, {summary['change']} to change, {summary['remove']} to remove:"
        )
        for change in plan.changes:
            self.stdout.write(f"{change.action:<7} {change.kind} {change.name}")
            for line in change.details:
                self.stdout.write(f"          {line}")
