"""A staff role belongs to staff only: existing non-staff rows lose theirs, then the database
refuses a role without staff access."""

from django.db import migrations, models


def clear_roles_of_non_staff(apps, schema_editor):
    # Members demoted before this fix kept "admin" (the old default for everyone).
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_staff=False).exclude(staff_role="").update(staff_role="")


def restore_default_role(apps, schema_editor):
    # The old schema's default: every row had a role, staff or not.
    User = apps.get_model("accounts", "User")
    User.objects.filter(staff_role="").update(staff_role="admin")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_staff_role"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="staff_role",
            field=models.CharField(
                blank=True,
                choices=[("admin", "Administrator"), ("auditor", "Auditor (read-only)")],
                default="",
                help_text="What a staff member may do in the dashboard: change things, or only look. Empty for everyone else.",
                max_length=10,
            ),
        ),
        migrations.RunPython(clear_roles_of_non_staff, restore_default_role),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("is_staff", True), ("staff_role", ""), _connector="OR"),
                name="accounts_user_staff_role_only_for_staff",
            ),
        ),
    ]
