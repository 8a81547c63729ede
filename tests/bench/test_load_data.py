"""The bench's bulk data (bench/load_data.py) against the models as they are: a model change that
breaks the set-up fails here, not minutes into `make bench`."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, is_password_usable

from accounts.models import User
from apis.models import Api
from bench.load_data import BULK_DOMAIN, CLIENT_PREFIX, add_clients, add_es256_api, add_users
from bench.options import AUDIENCE, BATCH_CLIENT, ES256_AUDIENCE, READ_SCOPE
from clients.models import Client, ClientGrant
from timesheets.demo import seed_timesheets_api, seed_timesheets_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def timesheets_api() -> Api:
    api = seed_timesheets_api()
    seed_timesheets_clients(api=api, batch_secret="b" * 40)
    return api


def test_bulk_users_grow_to_the_count_asked():
    assert add_users(5)[0] == 5
    added, total = add_users(7)  # what exists stays: only the missing two
    bulk = User.objects.filter(email__endswith="@" + BULK_DOMAIN)
    assert (added, total) == (2, User.objects.count())
    assert sorted(bulk.values_list("email", flat=True))[-1] == "bench-0000007@" + BULK_DOMAIN
    assert len(set(bulk.values_list("sub", flat=True))) == 7
    assert not any(is_password_usable(user.password) for user in bulk)  # nobody signs in as them
    assert all(user.is_active and user.email_verified for user in bulk)


def test_machine_clients_each_with_a_grant_on_the_timesheets_api(timesheets_api):
    assert add_clients(3)[0] == 3
    assert add_clients(3)[0] == 0
    grants = ClientGrant.objects.filter(client__client_id__startswith=CLIENT_PREFIX)
    assert grants.count() == 3
    for grant in grants:
        assert grant.api.identifier == AUDIENCE
        assert [scope.value for scope in grant.scopes.all()] == [READ_SCOPE]
        assert grant.client.app_type == Client.AppType.M2M
        assert identify_hasher(grant.client.client_secret)  # hashed, as DOT stores secrets


def test_the_es256_twin_and_the_batch_clients_grant_on_it(timesheets_api):
    assert add_es256_api() == "ok"
    assert add_es256_api() == "ok"  # a second run keeps it
    api = Api.objects.get(identifier=ES256_AUDIENCE)
    assert api.signing_algorithm == "ES256"
    grant = ClientGrant.objects.get(client__client_id=BATCH_CLIENT, api=api)
    assert [scope.value for scope in grant.scopes.all()] == [READ_SCOPE]
