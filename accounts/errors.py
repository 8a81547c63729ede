"""Refusals that every app's services raise and every interface answers in its own terms."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """A write refused because of what is stored, not because of its input's form: it would
    make a cycle, duplicate something unique, or touch what is protected. A ValidationError,
    so forms show it inline; the Management API answers it with 409 Conflict."""
