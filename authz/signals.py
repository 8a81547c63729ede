"""Reactions to changes in accounts that authorization must follow."""

from __future__ import annotations

from typing import Any

from accounts.models import User

from .services import user_access_revoke


def remember_password(sender: type[User], instance: User, **kwargs: Any) -> None:
    """pre_save: note whether this save changes the password."""
    if instance.pk is None:
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


def end_access_after_password_change(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    """post_save: a new password ends every refresh token and access token of the user."""
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        user_access_revoke(user=instance)
