"""A person's lifecycle: a pending invitation, and the tombstone a deleted person leaves.

The users list may be sorted by last sign-in, newest first and never-signed-in last, then
by email; on PostgreSQL an index in exactly that order serves its keyset pages. SQLite
cannot declare ``NULLS LAST`` in an index, and the model state cannot describe it on both
backends, so it is created here on PostgreSQL only (as 0007 does for the search).
"""

from django.db import migrations, models

INDEX = "accounts_user_last_login_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "accounts_user" ("last_login" DESC NULLS LAST, "email")'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_search_trigram_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="former_email",
            field=models.EmailField(
                blank=True, help_text="A deleted person's email address.", max_length=254
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="invited_at",
            field=models.DateTimeField(
                blank=True, help_text="When the pending invitation was sent; empty when none is.", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("deleted_at__isnull", True),
                    models.Q(("is_active", False), ("is_staff", False)),
                    _connector="OR",
                ),
                name="accounts_user_deleted_cannot_sign_in",
            ),
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
