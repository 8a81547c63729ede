"""Multi-factor sign-in: authenticator apps (TOTP), passkeys (WebAuthn), recovery codes.

``context`` is what a session knows of how its person signed in (the RFC 8176 ``amr``
values, the ``acr`` they meet, ``auth_time``) and the half-way state between a password
and a second factor; ``policy`` asks the app above us who must use a second factor.
"""
