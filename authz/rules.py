"""Token rules: small Python callables that customize tokens or deny a request.

Rules are registered in ``settings.AUTHZ_RULES`` (dotted paths, in their default order)
and switched on, off and reordered in the dashboard (``RuleSetting``). A rule receives a
``RuleContext``; it may add *namespaced* claims (keys that are URLs, so they never clash
with standard claims) to the access token and the ID token, or raise ``RuleDenied``.
Any other exception denies the request too: a token is never issued half-customized.

As Auth0's rules do, a rule sees how the person signed in (``context.authentication.methods``,
one ``{"name": <RFC 8176 amr value>}`` per method) and may ask for a second factor with
``context.require_mfa()``: at /authorize the person is then asked for one (a step-up); a
refresh whose sign-in had none is refused (``authz.oauth.authentication``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User
from accounts.versions import CONFIGURATION, VersionedCache
from apis.models import Api
from clients.models import Client

from .models import RuleSetting
from .selectors import user_entitlements

logger = logging.getLogger(__name__)

PROTOCOL_CODE = "oidc-basic-profile"
PROTOCOL_REFRESH = "oauth2-refresh-token"
PROTOCOL_CLIENT_CREDENTIALS = "oauth2-client-credentials"
PROTOCOL_DEVICE_CODE = "oauth2-device-code"  # RFC 8628, as Auth0 names it
PROTOCOLS = {
    "authorization_code": PROTOCOL_CODE,
    "refresh_token": PROTOCOL_REFRESH,
    "client_credentials": PROTOCOL_CLIENT_CREDENTIALS,
    "urn:ietf:params:oauth:grant-type:device_code": PROTOCOL_DEVICE_CODE,
}


class RuleDenied(Exception):
    """Raised by a rule to refuse the request; the message is shown to the client."""


@dataclass
class RuleAuthentication:
    """How the person signed in, as Auth0's ``context.authentication``: ``methods`` is one
    ``{"name": amr}`` per RFC 8176 method (``pwd``, ``otp``, ``hwk``, ``swk``, ``mfa``);
    empty for a machine client."""

    methods: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, amr: list[str]) -> RuleAuthentication:
        return cls(methods=[{"name": name} for name in amr])


@dataclass
class RuleContext:
    user: User | None
    client: Client
    api: Api | None
    requested_scopes: tuple[str, ...]
    granted_scopes: tuple[str, ...]
    protocol: str
    access_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    authentication: RuleAuthentication = field(default_factory=RuleAuthentication)
    # The first rule that asked for a second factor (its dotted path), set by ``run_rules``.
    mfa_required_by: str | None = None
    mfa_asked: bool = False

    def require_mfa(self) -> None:
        """Ask for a second factor for this request (Auth0's ``context.multifactor``)."""
        self.mfa_asked = True


Rule = Callable[[RuleContext], None]


def claim_namespace() -> str:
    return settings.AUTHZ_CLAIM_NAMESPACE


# --- Built-in rules -----------------------------------------------------------------------------


def add_roles_and_groups(context: RuleContext) -> None:
    """Add the user's roles and groups (nested ones included) as namespaced claims."""
    if context.user is None:
        return
    held = user_entitlements(context.user)
    for claims in (context.access_token_claims, context.id_token_claims):
        # Fresh lists: the cached tuples serve every request, and a later rule may change
        # one token's list without the other's.
        claims[f"{claim_namespace()}roles"] = list(held.roles)
        claims[f"{claim_namespace()}groups"] = list(held.groups)


def deny_deactivated_users(context: RuleContext) -> None:
    """A deactivated user gets no token, not even by refreshing one issued before."""
    if context.user is not None and not context.user.is_active:
        raise RuleDenied("This account is deactivated.")


# --- Running them -------------------------------------------------------------------------------


# A switch, an order or a rule turned off reaches every process at once (accounts.versions).
_active: VersionedCache[tuple[str, ...], list[RuleSetting]] = VersionedCache(
    "rule switches", CONFIGURATION, max_entries=4
)


def active_rules() -> list[RuleSetting]:
    """``registered_rules()``, kept while the configuration is unchanged: the token endpoint
    asks every time."""
    return _active.get_or_load(tuple(settings.AUTHZ_RULES), registered_rules)


def registered_rules() -> list[RuleSetting]:
    """The rules of settings.AUTHZ_RULES with their switches, in the order they run."""
    paths = list(settings.AUTHZ_RULES)
    stored = {rule.path: rule for rule in RuleSetting.objects.filter(path__in=paths)}
    missing = [
        RuleSetting(path=path, position=index) for index, path in enumerate(paths) if path not in stored
    ]
    if missing:
        RuleSetting.objects.bulk_create(missing, ignore_conflicts=True)
        stored = {rule.path: rule for rule in RuleSetting.objects.filter(path__in=paths)}
    return sorted(stored.values(), key=lambda rule: (rule.position, paths.index(rule.path)))


def run_rules(context: RuleContext) -> RuleContext:
    """Run the enabled rules in order; raise RuleDenied if one denies or fails."""
    namespace = claim_namespace()
    for setting in active_rules():
        if not setting.enabled:
            continue
        rule: Rule = import_string(setting.path)
        try:
            rule(context)
        except RuleDenied:
            raise
        except Exception as error:
            logger.exception("token rule %s failed", setting.path)
            raise RuleDenied("The request could not be completed: a token rule failed.") from error
        if context.mfa_asked and context.mfa_required_by is None:
            context.mfa_required_by = setting.path
        for claims in (context.access_token_claims, context.id_token_claims):
            foreign = [name for name in claims if not name.startswith(namespace)]
            if foreign:
                logger.error("token rule %s added claims outside %s: %s", setting.path, namespace, foreign)
                raise RuleDenied("The request could not be completed: a token rule failed.")
    return context


def rule_summary(path: str) -> str:
    """The first paragraph of the rule's docstring: what it adds or does (the dashboard's
    rules page and the Management API show it)."""
    try:
        rule = import_string(path)
    except ImportError:
        return "This rule cannot be loaded: check its path in settings.AUTHZ_RULES."
    doc = inspect.getdoc(rule) or ""
    return " ".join(doc.split("\n\n")[0].split()) or "No description: give the function a docstring."
