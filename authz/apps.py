"""The authz app: connects the receivers that keep rules, permissions and tokens in step with
the models."""

from __future__ import annotations

from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Authorization"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from accounts.models import User, UserSession
        from accounts.versions import CONFIGURATION, PERMISSIONS, changes_with

        from .models import Group, GroupNesting, Role, RuleSetting
        from .oauth.backchannel import on_session_ended
        from .signals import end_access_after_password_change, remember_password

        changes_with(CONFIGURATION, RuleSetting)
        changes_with(PERMISSIONS, Role, Group, GroupNesting)
        pre_save.connect(remember_password, sender=User, dispatch_uid="authz.remember_password")
        post_save.connect(
            end_access_after_password_change, sender=User, dispatch_uid="authz.password_changed"
        )
        # Every way a browser session ends deletes its tracked row: back-channel logout.
        post_delete.connect(on_session_ended, sender=UserSession, dispatch_uid="authz.backchannel_logout")
