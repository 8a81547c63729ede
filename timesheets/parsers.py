"""A DRF parser that reads a bulk upload sent as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from .models import MAX_BULK_ROWS


class CsvParser(BaseParser):
    """``text/csv`` with a header row: worker,date,project,hours,notes,external_id."""

    media_type = "text/csv"

    # DRF hands request.data whatever a parser returns, a list too (JSONParser's arrays); the
    # stub promises a Mapping.
    def parse(  # type: ignore[override]
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> list[dict[str, str]]:
        try:
            text = io.StringIO(stream.read().decode("utf-8-sig"), newline="")
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
