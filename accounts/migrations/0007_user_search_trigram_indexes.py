"""Trigram indexes for the dashboard's user search, on PostgreSQL only.

The search (accounts.selectors) keeps its meaning, "email or name contains this, whatever
the case", which Django writes as ``UPPER("email"::text) LIKE UPPER('%…%')``. No B-tree can
serve a pattern that starts with ``%``, so on a million users a rare word read every row
(hundreds of milliseconds). A GIN index of ``pg_trgm`` on the same expressions finds the
matches directly; common words are still served by walking the email index, which the
list's ``ORDER BY email`` uses anyway. Extended statistics on the same expressions
(PostgreSQL 14+) let the planner tell the two cases apart. Nothing in the model changes:
the indexes are expressions Django's model state cannot describe on both backends, and
SQLite needs none.

``pg_trgm`` is a trusted extension (PostgreSQL 13+): a database owner may create it. Where
the role may not, the migration leaves the search unindexed (slower, still correct) rather
than failing the deployment.
"""

from django.db import DatabaseError, migrations, transaction

INDEXES = {
    "accounts_user_email_upper_trgm": 'UPPER("email"::text)',
    "accounts_user_name_upper_trgm": 'UPPER("name"::text)',
}
STATISTICS = "accounts_user_search_upper"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    if schema_editor.connection.pg_version >= 140000:
        # What the planner knows of the two expressions: without it, it guessed that
        # "%bob%" matches 8 % of the users and walked the whole email index looking for them.
        expressions = ", ".join(f"({expression})" for expression in INDEXES.values())
        schema_editor.execute(
            f'CREATE STATISTICS IF NOT EXISTS "{STATISTICS}" ON {expressions} FROM "accounts_user"'
        )
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "accounts_user" USING gin (({expression}) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP STATISTICS IF EXISTS "{STATISTICS}"')
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_redact_typed_identifiers")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
