from django.apps import AppConfig


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = "Authorization"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import RuleSetting
        from .rules import forget_rules

        post_save.connect(forget_rules, sender=RuleSetting, dispatch_uid="authz.forget_rules_save")
        post_delete.connect(forget_rules, sender=RuleSetting, dispatch_uid="authz.forget_rules_delete")
