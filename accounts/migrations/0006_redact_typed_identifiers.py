"""Redact what earlier sign-in failures recorded when it was not an email (it may have been a
password typed into the email field): the audit log and django-axes' tables keep only the
marker that new failures get (accounts.identifiers.recorded_identifier)."""

import hmac
import unicodedata
from hashlib import sha256

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, migrations, transaction

PREFIX = "redacted-non-email:"
SIGN_IN_ACTIONS = ("security.login_failure", "security.lockout")


def _recorded(raw):
    # A frozen copy of recorded_identifier: a migration must not change when the code does.
    identifier = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if identifier.startswith(PREFIX):
        return identifier
    try:
        if identifier and len(identifier) <= 254:
            EmailValidator()(identifier)
            return identifier
    except ValidationError:
        pass
    digest = hmac.new(str(settings.SECRET_KEY).encode(), identifier.encode(), sha256).hexdigest()[:12]
    return f"{PREFIX}{digest}"


def redact(apps, schema_editor):
    AuditEntry = apps.get_model("accounts", "AuditEntry")
    for entry in AuditEntry.objects.filter(action__in=SIGN_IN_ACTIONS).iterator():
        changed = False
        label = _recorded(entry.target_label)
        if label != entry.target_label:
            entry.target_label, changed = label, True
        if isinstance(entry.after, dict) and entry.after.get("username"):
            username = _recorded(entry.after["username"])
            if username != entry.after["username"]:
                entry.after = {**entry.after, "username": username}
                changed = True
        if changed:
            entry.save(update_fields=["target_label", "after"])
    for model in ("AccessAttempt", "AccessFailureLog", "AccessLog"):
        Model = apps.get_model("axes", model)
        for row in Model.objects.exclude(username=None).iterator():
            username = _recorded(row.username)
            if username == row.username:
                continue
            try:
                with transaction.atomic():
                    Model.objects.filter(pk=row.pk).update(username=username)
            except IntegrityError:
                # Another spelling of the same typed value already has its row: a transient
                # failure counter, so this duplicate goes.
                Model.objects.filter(pk=row.pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_staff_role_only_for_staff"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(redact, migrations.RunPython.noop)]
