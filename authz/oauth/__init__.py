"""The OAuth 2.0 / OpenID Connect protocol: django-oauth-toolkit's extension points, filled in."""

# GrantSignIn is a model of the authz app kept beside the code that uses it; importing the
# package (authz's ``ready`` does) registers it, before anything asks for the models.
from . import sign_ins  # noqa: F401
