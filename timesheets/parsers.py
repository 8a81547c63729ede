"""The DRF parsers of a bulk upload: JSON or CSV, under the bulk endpoint's own size limit.

Every other endpoint keeps Django's small limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``); only
this one reads up to ``BULK_UPLOAD_MAX_BYTES``, room for the 10,000 rows it promises.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from apis.parsers import JSONParser, body_read

from .models import MAX_BULK_ROWS


def bulk_max_bytes() -> int:
    return settings.BULK_UPLOAD_MAX_BYTES


class BulkJSONParser(JSONParser):
    """A bulk upload as JSON: up to ``BULK_UPLOAD_MAX_BYTES``."""

    def max_bytes(self) -> int:
        return bulk_max_bytes()


class CsvParser(BaseParser):
    """``text/csv`` with a header row: worker,date,project,hours,notes,external_id."""

    media_type = "text/csv"

    # DRF hands request.data whatever a parser returns, a list too (JSONParser's arrays); the
    # stub promises a Mapping.
    def parse(  # type: ignore[override]
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> list[dict[str, str]]:
        body = body_read(stream, parser_context, max_bytes=bulk_max_bytes())
        try:
            text = io.StringIO(body.decode("utf-8-sig"), newline="")
            reader = csv.DictReader(text)
            rows: list[dict[str, str]] = []
            for row in reader:
                if len(rows) >= MAX_BULK_ROWS:
                    raise ParseError(f"At most {MAX_BULK_ROWS} rows per upload.")
                if None in row:
                    raise ParseError(f"Line {reader.line_num} has more fields than the header.")
                rows.append({key.strip(): (value or "").strip() for key, value in row.items() if key})
        except (UnicodeDecodeError, csv.Error) as error:
            raise ParseError(f"The CSV cannot be read: {error}") from error
        return rows
