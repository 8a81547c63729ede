"""The Management API at ``/api/v2/``: what an administrator does in the dashboard, from code.

Every view calls the same services as the dashboard, so validation, audit entries and the
effects on tokens are identical; the audit log names the calling client as the actor.
"""
