"""The token path makes only the queries it needs (each one costs as much as a signature)."""

from __future__ import annotations

import pytest

from apis.keys import signing_key_current
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials

pytestmark = pytest.mark.django_db


def test_client_credentials_issuance_query_budget(
    confidential_client, timesheets_api, django_assert_num_queries, settings
):
    # The daily token count is written after a response, once due (authz.oauth.issuance_counts),
    # not by the token path: the test settings make it due at once, production every 5 s.
    settings.TOKEN_STATS_FLUSH_SECONDS = 3600
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    signing_key_current()  # made on first use: a new key is a configuration change
    assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == 200  # warm
    # The client, the API, the grant, the rules and the key are the process's copies while the
    # configuration is unchanged, and a machine's JWT needs no row: no query at all.
    with django_assert_num_queries(0):
        assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == 200


def test_a_configuration_change_is_read_again_at_once(
    confidential_client, timesheets_api, django_assert_max_num_queries
):
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    assert client_credentials(client.client_id, secret, audience=TIMESHEETS_API).status_code == 200
    client_grant_set(client=client, api=timesheets_api, scopes=[])
    response = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
