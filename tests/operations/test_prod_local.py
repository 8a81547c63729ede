"""`make prod`'s preparation: the environment it generates is a clean production deployment."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from tools import prod_local

ROOT = Path(__file__).resolve().parents[2]


def _generated(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "env"
    prod_local.env_file_write(path, prod_local.environment(tmp_path, 8443))
    return prod_local.env_file_read(path)


def test_the_generated_environment_passes_the_deploy_check(tmp_path):
    variables = _generated(tmp_path)
    Path(variables["PROMETHEUS_MULTIPROC_DIR"]).mkdir()  # as `make prod` makes it
    # Nothing of the test run's own environment leaks in: a production process starts clean.
    ours = {*variables, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {name: value for name, value in os.environ.items() if name not in ours}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **variables},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert variables["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert variables["OIDC_ISSUER"] == "https://localhost:8443"


def test_the_environment_file_is_private_and_its_secrets_are_drawn_afresh(tmp_path):
    first = _generated(tmp_path / "one")
    second = _generated(tmp_path / "two")
    mode = stat.S_IMODE((tmp_path / "one" / "env").stat().st_mode)
    assert mode == 0o600
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    assert first["METRICS_TOKEN"] != second["METRICS_TOKEN"]
    assert len(first["SECRET_KEY"]) >= 50


def test_an_existing_environment_file_is_never_overwritten(tmp_path):
    path = tmp_path / "env"
    prod_local.env_file_write(path, prod_local.environment(tmp_path, 8443))
    before = path.read_text()
    with pytest.raises(FileExistsError):  # the keys of a running deployment stay
        prod_local.env_file_write(path, prod_local.environment(tmp_path, 8443))
    assert path.read_text() == before


def test_the_certificate_names_localhost_and_its_key_is_private(tmp_path):
    cert, key = tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem"
    prod_local.tls_certificate_write(cert, key)
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(address) for address in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
