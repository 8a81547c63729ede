"""Whether a request needs a second factor, and why: the organisation's policy for the
person, the application's setting, a rule.

The authorization endpoint (a step-up), the token endpoint (a refresh cannot step up) and
the dashboard's token preview all ask here, so they cannot disagree.
"""

from __future__ import annotations

from accounts.mfa.policy import mfa_required
from accounts.models import User
from clients.models import Client

from .mfa import client_requires_mfa
from .rules import RuleContext, rule_summary


def mfa_reasons(*, user: User, client: Client, rules: RuleContext | None) -> list[str]:
    """What asks ``user`` for a second factor to use ``client``, in words that finish
    "required by ..."; empty when nothing does. ``rules``: the rules' result for the request."""
    reasons = []
    if mfa_required(user):
        reasons.append("the organisation's MFA policy for this person")
    if client_requires_mfa(client):
        reasons.append(f"the application's setting ({client.name} requires multi-factor sign-in)")
    if rules is not None and rules.mfa_required_by is not None:
        summary = rule_summary(rules.mfa_required_by).rstrip(".")
        reasons.append(f"the rule {rules.mfa_required_by.rsplit('.', 1)[-1]} ({summary})")
    return reasons
