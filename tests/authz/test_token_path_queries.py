"""The token path makes only the queries it needs (each one costs as much as a signature)."""

from __future__ import annotations

import pytest

from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials

pytestmark = pytest.mark.django_db


def test_client_credentials_issuance_query_budget(
    confidential_client, timesheets_api, django_assert_max_num_queries
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == 200  # warm
    # client, API + scopes, grant + scopes, then the token row and its record (in a savepoint).
    with django_assert_max_num_queries(9):
        assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == 200
