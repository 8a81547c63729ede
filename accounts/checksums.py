"""The one digest under which a secret value is stored or looked up, never the value itself."""

from __future__ import annotations

import hashlib


def token_checksum(value: str) -> str:
    """SHA-256, hex: django-oauth-toolkit's ``token_checksum``, and our cache keys for
    codes, tokens and secrets. A bearer value is high-entropy, so no salt is needed to
    keep it from being guessed back from its digest."""
    return hashlib.sha256(value.encode()).hexdigest()
