"""Callers of the Management API: machine clients granted its scopes, with real tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient

from apis.models import Api
from apis.system import MANAGEMENT_SCOPES
from clients.models import Client
from clients.services import client_create, client_grant_set

from ..oauth import client_credentials

ALL_SCOPES = tuple(MANAGEMENT_SCOPES)


class ManagementCaller:
    """An HTTP client for /api/v2/ that sends a bearer token and JSON bodies."""

    def __init__(self, token: str, client_id: str) -> None:
        self.token = token
        self.client_id = client_id
        self.http = HttpClient()

    def _headers(self, headers: dict[str, str]) -> dict[str, Any]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **{_meta(k): v for k, v in headers.items()}}

    def get(self, path: str, **headers: str):
        return self.http.get(f"/api/v2/{path}", **self._headers(headers))

    def delete(self, path: str, **headers: str):
        return self.http.delete(f"/api/v2/{path}", **self._headers(headers))

    def send(self, method: str, path: str, body: Any = None, **headers: str):
        send = getattr(self.http, method.lower())
        content = json.dumps(body) if body is not None else ""
        return send(f"/api/v2/{path}", content, content_type="application/json", **self._headers(headers))

    def post(self, path: str, body: Any = None, **headers: str):
        return self.send("POST", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str):
        return self.send("PATCH", path, body, **headers)

    def put(self, path: str, body: Any = None, **headers: str):
        return self.send("PUT", path, body, **headers)


def _meta(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


@pytest.fixture
def management_api(db) -> Api:
    return Api.objects.get(system=True)


@pytest.fixture
def machine_token(management_api) -> Callable[..., ManagementCaller]:
    """``machine_token(*scopes)``: a caller whose client was granted ``scopes`` (all by
    default) on the Management API and got its token from /oauth/token."""
    made = 0

    def make(*scopes: str, client_id: str | None = None) -> ManagementCaller:
        nonlocal made
        made += 1
        client_id = client_id or f"provisioner-{made}"
        client, secret = client_create(
            app_type=Client.AppType.M2M, name=f"Provisioner {made}", client_id=client_id
        )
        client_grant_set(client=client, api=management_api, scopes=scopes or ALL_SCOPES)
        response = client_credentials(client_id, secret or "", audience=management_api.identifier)
        assert response.status_code == 200, response.content
        return ManagementCaller(response.json()["access_token"], client_id)

    return make


@pytest.fixture
def admin_api(machine_token) -> ManagementCaller:
    """A caller holding every Management API scope."""
    return machine_token()
