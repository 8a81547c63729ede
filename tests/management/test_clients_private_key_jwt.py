"""/api/v2/clients and configuration files with private_key_jwt: the method, jwks and
jwks_uri set, shown and checked as in the dashboard."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from authz.transfer import ConfigInvalid, apply_import, export_config, load_config, plan_import
from clients.models import Client
from tests.security.pkjwt import KeyPair, key_client


def test_the_management_api_sets_and_shows_the_keys(admin_api):
    key = KeyPair.new()
    created = admin_api.post(
        "clients",
        {
            "name": "Keyed batch",
            "app_type": "m2m",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": key.jwks(),
        },
    )
    assert created.status_code == HTTPStatus.CREATED, created.content
    client_id = created.json()["client_id"]
    read = admin_api.get(f"clients/{client_id}").json()
    assert read["token_endpoint_auth_method"] == "private_key_jwt"
    assert read["jwks"] == key.jwks()
    assert read["jwks_uri"] == ""
    refused = admin_api.patch(f"clients/{client_id}", {"jwks": {"keys": [key.private_jwk()]}})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "private key" in refused.content.decode()
    moved = admin_api.patch(
        f"clients/{client_id}", {"jwks": None, "jwks_uri": "https://keys.abcinc.example/jwks"}
    )
    assert moved.status_code == HTTPStatus.OK, moved.content
    assert moved.json()["jwks"] is None
    keyless = admin_api.patch(f"clients/{client_id}", {"jwks_uri": ""})
    assert keyless.status_code == HTTPStatus.BAD_REQUEST
    native = admin_api.post(
        "clients",
        {
            "name": "Mobile",
            "app_type": "native",
            "redirect_uris": ["com.abcinc.app://cb"],
            "jwks": key.jwks(),
        },
    )
    assert native.status_code == HTTPStatus.BAD_REQUEST


def test_configuration_files_carry_the_keys_and_check_them(db):
    key = KeyPair.new("EdDSA")
    client, _ = key_client(Client.AppType.M2M, key)
    exported = export_config()
    entry = next(app for app in exported["applications"] if app["client_id"] == client.client_id)
    assert entry["token_endpoint_auth_method"] == "private_key_jwt"
    assert entry["jwks"] == key.jwks()
    client.delete()
    apply_import(actor=None, plan=plan_import(load_config(json.dumps(exported))))
    assert Client.objects.get(client_id=client.client_id).jwks == key.jwks()
    entry["jwks"] = {"keys": [key.private_jwk()]}
    with pytest.raises(ConfigInvalid, match="private key"):
        plan_import(load_config(json.dumps(exported)))
    entry["jwks"] = "not an object"
    with pytest.raises(ConfigInvalid, match="an object or null"):
        plan_import(load_config(json.dumps(exported)))
