"""The API registry's invariants hold whoever writes: service, form or ORM."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apis.models import Api, Scope
from apis.services import api_create, api_update, scope_create, scope_update

pytestmark = pytest.mark.django_db


def test_the_identifier_cannot_change(timesheets_api):
    timesheets_api.identifier = "https://renamed.example/api"
    with pytest.raises(ValidationError, match="cannot be changed"):
        timesheets_api.save()
    with pytest.raises(TypeError, match="identifier"):
        api_update(api=Api.objects.get(pk=timesheets_api.pk), identifier="https://renamed.example/api")
    assert Api.objects.get(pk=timesheets_api.pk).identifier == "https://timesheets.abcinc.example/api"


@pytest.mark.parametrize(
    "identifier",
    ["timesheets", "https://", "https://api.example/#frag", "https://api example/", "", "/relative/path"],
)
def test_identifiers_must_be_absolute_uris(identifier):
    with pytest.raises(ValidationError) as error:
        api_create(identifier=identifier, name="Bad")
    assert "identifier" in error.value.message_dict
    assert not Api.objects.filter(system=False).exists()


def test_identifiers_are_unique(timesheets_api):
    with pytest.raises(ValidationError) as error:
        api_create(identifier=timesheets_api.identifier, name="Copy")
    assert "identifier" in error.value.message_dict


@pytest.mark.parametrize("lifetime", [0, 59, 30 * 24 * 3600 + 1])
def test_token_lifetime_is_bounded(lifetime):
    with pytest.raises(ValidationError) as error:
        api_create(identifier="https://x.example/api", name="X", token_lifetime=lifetime)
    assert "token_lifetime" in error.value.message_dict


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("read timesheets", "no spaces"),
        ('read:"x"', "no spaces, quotes"),
        ("read\\x", "backslashes"),
        ("", "cannot be blank"),
        ("openid", "OpenID Connect scope"),
        ("offline_access", "OpenID Connect scope"),
    ],
)
def test_scope_values_are_validated(timesheets_api, value, message):
    with pytest.raises(ValidationError) as error:
        scope_create(api=timesheets_api, value=value, description="A description")
    assert message in " ".join(error.value.messages)


def test_scope_values_are_unique_per_api(timesheets_api, hs256_api):
    with pytest.raises(ValidationError):
        scope_create(api=timesheets_api, value="read:timesheets", description="Again")
    # Another API may define the same value.
    assert scope_create(api=hs256_api, value="read:timesheets", description="Other API").pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Scope.objects.create(api=timesheets_api, value="read:timesheets", description="Bypassing validation")


def test_scope_update_validates_too(timesheets_api):
    scope = timesheets_api.scopes.get(value="read:timesheets")
    with pytest.raises(ValidationError):
        scope_update(scope=scope, value="create:timesheets", description="Clash")
    scope.refresh_from_db()
    assert scope.value == "read:timesheets"
