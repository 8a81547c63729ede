"""The authz app: connects the receivers that keep rules, permissions and tokens in step with
the models."""

from __future__ import annotations

from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Authorization"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save, pre_save

        from accounts.models import User
        from accounts.versions import CONFIGURATION, PERMISSIONS, changes_with

        from .models import Group, GroupNesting, Role, RuleSetting
        from .oauth.backchannel import on_user_logged_out
        from .signals import end_access_after_password_change, remember_password

        changes_with(CONFIGURATION, RuleSetting)
        changes_with(PERMISSIONS, Role, Group, GroupNesting)
        pre_save.connect(remember_password, sender=User, dispatch_uid="authz.remember_password")
        post_save.connect(
            end_access_after_password_change, sender=User, dispatch_uid="authz.password_changed"
        )
        user_logged_out.connect(on_user_logged_out, dispatch_uid="authz.backchannel_logout")
