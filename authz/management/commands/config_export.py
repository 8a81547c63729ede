"""``manage.py config_export``: the whole configuration as JSON, for version control and CI/CD."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from authz.transfer import export_config


def config_json(data: dict) -> str:
    """The text of an export: keys in a fixed order and lists sorted, so that two exports diff well."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = (
        "Export APIs, applications (never their secrets), client grants, roles, groups and rules "
        "as JSON, named by identifiers, client ids, names and emails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def handle(self, *args, output: str | None, **options) -> None:
        text = config_json(export_config())
        if output is None:
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Configuration written to {output}.")
