"""The authz app: connects the receivers that keep rules and tokens in step with the models."""

from __future__ import annotations

from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Authorization"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from accounts.models import User

        from .models import RuleSetting
        from .rules import forget_rules
        from .signals import end_access_after_password_change, remember_password

        post_save.connect(forget_rules, sender=RuleSetting, dispatch_uid="authz.forget_rules_save")
        post_delete.connect(forget_rules, sender=RuleSetting, dispatch_uid="authz.forget_rules_delete")
        pre_save.connect(remember_password, sender=User, dispatch_uid="authz.remember_password")
        post_save.connect(
            end_access_after_password_change, sender=User, dispatch_uid="authz.password_changed"
        )
