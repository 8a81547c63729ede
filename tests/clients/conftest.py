"""Fixtures the Applications dashboard tests share."""

from __future__ import annotations

import pytest

from apis.models import Api
from apis.services import api_create


@pytest.fixture
def payroll_api(db) -> Api:
    """An API with two scopes, for the APIs tab of a machine application."""
    return api_create(
        identifier="https://payroll.abcinc.example/",
        name="Payroll API",
        scopes={"read:payslips": "Read payslips", "run:payroll": "Run the payroll"},
    )
