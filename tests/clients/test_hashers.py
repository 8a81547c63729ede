"""Client secrets are hashed at rest with a fast salted hash, checked in constant time."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher

from clients.models import Client
from clients.services import client_create, client_secret_rotate

pytestmark = pytest.mark.django_db


def test_secrets_are_stored_with_the_client_secret_hasher():
    client, secret = client_create(app_type=Client.AppType.M2M, name="Batch")
    assert secret is not None
    stored = Client.objects.get(pk=client.pk).client_secret
    assert identify_hasher(stored).algorithm == "client_sha256"
    assert secret not in stored
    assert check_password(secret, stored)
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # one character off, never equal
    assert not check_password(wrong, stored)


def test_the_same_secret_hashes_differently_each_time():
    client, secret = client_create(app_type=Client.AppType.M2M, name="Batch")
    first = Client.objects.get(pk=client.pk).client_secret
    client.client_secret = secret
    client.save()
    assert Client.objects.get(pk=client.pk).client_secret != first  # a new salt


def test_rotation_uses_it_too():
    client, _ = client_create(app_type=Client.AppType.M2M, name="Batch")
    new = client_secret_rotate(client=client)
    stored = Client.objects.get(pk=client.pk).client_secret
    assert identify_hasher(stored).algorithm == "client_sha256"
    assert check_password(new, stored)


def test_peoples_passwords_never_use_it(user):
    assert identify_hasher(user.password).algorithm != "client_sha256"
