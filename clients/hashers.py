"""A fast hasher for client secrets.

Client secrets are long random strings we generate (128 characters from DOT, or at least
32 for a chosen demo secret), so guessing one is hopeless whatever the hash; a password
hasher's deliberate slowness (PBKDF2: ~260 ms of CPU per check) would only let anyone
with a wrong secret tie up our workers. A salted SHA-256, compared in constant time, is
what such a secret needs. People's passwords keep Django's slow default.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import BasePasswordHasher, check_password, identify_hasher, mask_hash
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "client_sha256"

    def salt(self) -> str:
        return secrets.token_hex(16)

    def encode(self, password: str, salt: str) -> str:
        # Django's own argument check; django-stubs does not declare this private helper.
        self._check_encode_args(password, salt)  # type: ignore[attr-defined]
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, salt, digest = encoded.split("$", 2)
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[StrOrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Nothing to harden: every check already costs the same single hash."""


def client_secret_matches(provided: str, stored: str) -> bool:
    """Whether ``provided`` is the secret ``stored`` holds: a Django hash (ours, or an older
    hasher's), or a secret stored in clear by an older version. Every path that
    authenticates a client asks this (django-oauth-toolkit's ``_check_secret`` included)."""
    try:
        identify_hasher(stored)
    except ValueError:
        return constant_time_compare(provided, stored)
    return check_password(provided, stored)
