"""The OAuth 2.0 / OpenID Connect protocol: django-oauth-toolkit's extension points, filled in."""
