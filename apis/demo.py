"""ABC Inc.'s Timesheets API, for ``manage.py seed_demo``."""

from __future__ import annotations

from django.db import transaction

from .models import Api
from .selectors import api_by_identifier
from .services import api_create, api_update, scope_create, scope_update

TIMESHEETS_API = "https://timesheets.abcinc.example/api"
TIMESHEETS_SCOPES = {
    "read:timesheets": "Read timesheet entries",
    "create:timesheets": "Log time and submit timesheets",
    "delete:timesheets": "Delete timesheet entries that are not approved",
    "approve:timesheets": "Approve or reject the timesheets of your reports",
}


@transaction.atomic
def seed_timesheets_api() -> Api:
    """Register the Timesheets API (RS256, offline access, RBAC) with its four scopes."""
    settings = {
        "signing_algorithm": Api.Algorithm.RS256,
        "allow_offline_access": True,
        "rbac_enabled": True,
        "add_permissions_claim": True,
    }
    api = api_by_identifier(TIMESHEETS_API)
    if api is None:
        api = api_create(identifier=TIMESHEETS_API, name="Timesheets API", **settings)
    else:
        api = api_update(api=api, name="Timesheets API", **settings)
    existing = {scope.value: scope for scope in api.scopes.all()}
    for value, description in TIMESHEETS_SCOPES.items():
        if value in existing:
            scope_update(scope=existing[value], value=value, description=description)
        else:
            scope_create(api=api, value=value, description=description)
    return api
