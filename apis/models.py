from __future__ import annotations

from django.db import models


class SigningKey(models.Model):
    """An RSA key pair that signs ID tokens and RS256 access tokens.

    The newest key without ``retired_at`` signs. A retired key stays published in the JWKS
    until ``retired_at`` + the retirement period, so every token it signed can still be
    verified; after that it is deleted.
    """

    kid = models.CharField(max_length=64, unique=True, help_text="RFC 7638 thumbprint of the public key.")
    algorithm = models.CharField(max_length=10, default="RS256")
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(algorithm="RS256"), name="apis_signingkey_rs256_only"),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid}"
