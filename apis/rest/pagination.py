"""Cursor pages: ``{"next", "previous", "results"}``, stable under inserts, fast at any depth."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """Keyset pagination; a view sets ``ordering`` on a unique key (or ends it with ``id``).

    A cursor that does not decode names no page: 404, as DRF answers it.
    """

    ordering: tuple[str, ...] = ("id",)
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"

    invalid_cursor_message = "No such page: this cursor is not one we gave out."

    def get_page_size(self, request):
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not (size.isdigit() and 1 <= int(size) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request)
