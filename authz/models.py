from __future__ import annotations

from django.db import models
from oauth2_provider.settings import oauth2_settings


class AccessTokenRecord(models.Model):
    """What revocation and introspection need to know about an issued JWT access token.

    django-oauth-toolkit keeps its own row per access token (looked up by checksum); this
    adds the JWT's ``jti`` and the grant it belongs to: the authorization that a code
    redemption started and that its refresh tokens continue (their ``token_family``).
    """

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="record"
    )
    jti = models.UUIDField(unique=True)
    grant_id = models.UUIDField(db_index=True)
    audience = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return str(self.jti)
