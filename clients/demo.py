"""ABC Inc.'s two Timesheets applications, for ``manage.py seed_demo``."""

from __future__ import annotations

from django.db import transaction

from apis.models import Api

from .models import Client
from .services import client_create, client_grant_set, client_update

MOBILE_CLIENT_ID = "timesheets-mobile"
BATCH_CLIENT_ID = "timesheets-batch"
MOBILE_CALLBACKS = ["com.abcinc.timesheets://callback", "http://127.0.0.1/callback"]
BATCH_SCOPES = ["create:timesheets", "read:timesheets"]


@transaction.atomic
def seed_timesheets_clients(*, api: Api, batch_secret: str | None) -> str | None:
    """Create or update "Timesheets Mobile" and "Timesheets Batch"; return a new batch secret.

    With ``batch_secret`` the batch client gets it. Without, a batch client created now gets
    a generated secret (returned, to be shown once); an existing one keeps its own.
    """
    mobile = Client.objects.filter(client_id=MOBILE_CLIENT_ID).first()
    mobile_settings = {
        "name": "Timesheets Mobile",
        "description": "ABC Inc.'s mobile app for logging time.",
        "redirect_uris": MOBILE_CALLBACKS,
        "first_party": True,
    }
    if mobile is None:
        client_create(app_type=Client.AppType.NATIVE, client_id=MOBILE_CLIENT_ID, **mobile_settings)
    else:
        client_update(client=mobile, **mobile_settings)

    batch = Client.objects.filter(client_id=BATCH_CLIENT_ID).first()
    generated = None
    batch_settings = {"name": "Timesheets Batch", "description": "Nightly import of timesheets from payroll."}
    if batch is None:
        batch, generated = client_create(
            app_type=Client.AppType.M2M,
            client_id=BATCH_CLIENT_ID,
            client_secret=batch_secret,
            **batch_settings,
        )
        if batch_secret is not None:
            generated = None
    else:
        client_update(client=batch, **batch_settings)
        if batch_secret is not None:
            batch.client_secret = batch_secret
            batch.save(update_fields=["client_secret", "updated"])
    client_grant_set(client=batch, api=api, scopes=BATCH_SCOPES)
    return generated
