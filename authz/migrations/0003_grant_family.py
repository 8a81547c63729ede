"""GrantFamily: the stored start of each refresh-token family, backfilled for live families."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Min
from oauth2_provider.settings import oauth2_settings


def backfill_family_starts(apps, schema_editor) -> None:
    """A family begun before this migration starts at its oldest surviving refresh token:
    the best that is known of it, and what the lifetime was counted from until now."""
    refresh_token_model = apps.get_model(oauth2_settings.REFRESH_TOKEN_MODEL)
    grant_family_model = apps.get_model("authz", "GrantFamily")
    families = (
        refresh_token_model.objects.exclude(token_family=None)
        .values("token_family")
        .annotate(started_at=Min("created"), client_id=Min("application_id"), user_id=Min("user_id"))
    )
    grant_family_model.objects.bulk_create(
        (
            grant_family_model(
                grant_id=family["token_family"],
                started_at=family["started_at"],
                client_id=family["client_id"],
                user_id=family["user_id"],
            )
            for family in families.iterator()
            if family["client_id"] is not None and family["user_id"] is not None
        ),
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("authz", "0002_rulesetting_group_groupnesting_group_subgroups_role_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_APPLICATION_MODEL),
        # The backfill reads refresh tokens' token_family (and runs on the swappable model).
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
        migrations.swappable_dependency(oauth2_settings.REFRESH_TOKEN_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="GrantFamily",
            fields=[
                ("grant_id", models.UUIDField(primary_key=True, serialize=False)),
                ("started_at", models.DateTimeField(db_index=True)),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="grant_families",
                        to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="grant_families",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(backfill_family_starts, migrations.RunPython.noop),
    ]
