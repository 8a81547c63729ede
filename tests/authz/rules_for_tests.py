"""Rules that tests register through settings.AUTHZ_RULES."""

from __future__ import annotations

from authz.rules import RuleContext, RuleDenied

SEEN: list[str] = []


def record_protocol(context: RuleContext) -> None:
    SEEN.append(context.protocol)
    context.access_token_claims["https://abcinc.example/protocol"] = context.protocol
    context.id_token_claims["https://abcinc.example/protocol"] = context.protocol


def explode(context: RuleContext) -> None:
    raise ValueError("a bug in a rule")


def deny_contractors(context: RuleContext) -> None:
    if context.user is not None and context.user.worker_type == "contractor":
        raise RuleDenied("Contractors cannot use this application.")


def unnamespaced(context: RuleContext) -> None:
    context.access_token_claims["email"] = "spoofed@evil.example"
