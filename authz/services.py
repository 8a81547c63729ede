"""Writes for roles, groups, consents and rules. Each one is audited with its actor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.models import AbstractRefreshToken, get_access_token_model, get_refresh_token_model

from accounts.audit import audit_record, snapshot
from accounts.models import User
from apis.models import Scope
from apis.revocation import revoke_grant, revoke_user_tokens
from clients.models import Client

from .models import AccessTokenRecord, Consent, Group, GroupNesting, Role, RuleSetting
from .permission_loss import group_people, permissions_watched
from .rules import registered_rules
from .selectors import group_descendants, holders_of_roles

ROLE_FIELDS = ("name", "description")
GROUP_FIELDS = ("name", "description")


def _role_state(role: Role) -> dict:
    permissions = [
        f"{scope.api.identifier} {scope.value}" for scope in role.permissions.select_related("api")
    ]
    return {**snapshot(role, ROLE_FIELDS), "permissions": sorted(permissions)}


def _role_holders(role: Role) -> list[User]:
    return [holder.user for holder in holders_of_roles({role.pk: role.name})]


# --- Roles ------------------------------------------------------------------------------------


@transaction.atomic
def role_create(
    *, actor: User | None, name: str, description: str = "", permissions: Iterable[Scope] = ()
) -> Role:
    role = Role(name=name.strip(), description=description.strip())
    role.full_clean()
    role.save()
    role.permissions.set(list(permissions))
    audit_record(actor=actor, action="role.create", target=role, after=_role_state(role))
    return role


@transaction.atomic
def role_update(*, actor: User | None, role: Role, name: str, description: str) -> Role:
    before = _role_state(role)
    role.name, role.description = name.strip(), description.strip()
    role.full_clean()
    role.save()
    audit_record(actor=actor, action="role.update", target=role, before=before, after=_role_state(role))
    return role


@transaction.atomic
def role_set_permissions(*, actor: User | None, role: Role, permissions: Iterable[Scope]) -> Role:
    """Give ``role`` exactly ``permissions``: scopes of APIs that people's tokens may be for."""
    permissions = list(permissions)
    machine_only = sorted({scope.value for scope in permissions if scope.api.system})
    if machine_only:
        raise ValidationError(
            {"permissions": f"{', '.join(machine_only)}: Management API scopes are for machines, not roles."}
        )
    before = _role_state(role)
    with permissions_watched(_role_holders(role)):
        role.permissions.set(list(permissions))
    audit_record(actor=actor, action="role.permissions", target=role, before=before, after=_role_state(role))
    return role


@transaction.atomic
def role_delete(*, actor: User | None, role: Role) -> None:
    audit_record(actor=actor, action="role.delete", target=role, before=_role_state(role))
    with permissions_watched(_role_holders(role)):
        role.delete()


@transaction.atomic
def role_assign(*, actor: User | None, role: Role, user: User) -> None:
    if not role.users.filter(pk=user.pk).exists():
        role.users.add(user)
        audit_record(actor=actor, action="role.assign", target=role, after={"user": user.email})


@transaction.atomic
def role_unassign(*, actor: User | None, role: Role, user: User) -> None:
    if role.users.filter(pk=user.pk).exists():
        with permissions_watched([user]):
            role.users.remove(user)
        audit_record(actor=actor, action="role.unassign", target=role, before={"user": user.email})


# --- Groups -----------------------------------------------------------------------------------


@transaction.atomic
def group_create(*, actor: User | None, name: str, description: str = "") -> Group:
    group = Group(name=name.strip(), description=description.strip())
    group.full_clean()
    group.save()
    audit_record(actor=actor, action="group.create", target=group, after=snapshot(group, GROUP_FIELDS))
    return group


@transaction.atomic
def group_update(*, actor: User | None, group: Group, name: str, description: str) -> Group:
    before = snapshot(group, GROUP_FIELDS)
    group.name, group.description = name.strip(), description.strip()
    group.full_clean()
    group.save()
    audit_record(
        actor=actor, action="group.update", target=group, before=before, after=snapshot(group, GROUP_FIELDS)
    )
    return group


@transaction.atomic
def group_delete(*, actor: User | None, group: Group) -> None:
    audit_record(actor=actor, action="group.delete", target=group, before=snapshot(group, GROUP_FIELDS))
    with permissions_watched(group_people(group.pk)):
        group.delete()


@transaction.atomic
def group_add_member(*, actor: User | None, group: Group, user: User) -> None:
    if not group.members.filter(pk=user.pk).exists():
        group.members.add(user)
        audit_record(actor=actor, action="group.add_member", target=group, after={"user": user.email})


@transaction.atomic
def group_remove_member(*, actor: User | None, group: Group, user: User) -> None:
    if group.members.filter(pk=user.pk).exists():
        with permissions_watched([user]):
            group.members.remove(user)
        audit_record(actor=actor, action="group.remove_member", target=group, before={"user": user.email})


@transaction.atomic
def group_add_role(*, actor: User | None, group: Group, role: Role) -> None:
    if not group.roles.filter(pk=role.pk).exists():
        group.roles.add(role)
        audit_record(actor=actor, action="group.add_role", target=group, after={"role": role.name})


@transaction.atomic
def group_remove_role(*, actor: User | None, group: Group, role: Role) -> None:
    if group.roles.filter(pk=role.pk).exists():
        with permissions_watched(group_people(group.pk)):
            group.roles.remove(role)
        audit_record(actor=actor, action="group.remove_role", target=group, before={"role": role.name})


@transaction.atomic
def group_nest(*, actor: User | None, parent: Group, child: Group) -> None:
    """Put ``child`` inside ``parent``: its members become members of ``parent`` too.

    Refused when ``parent`` is ``child`` itself or already inside it: that would be a cycle.
    """
    # Lock the nesting table's view of these two groups so two concurrent nestings cannot
    # each pass the check and together close a cycle.
    list(Group.objects.select_for_update().filter(pk__in=[parent.pk, child.pk]))
    if parent.pk == child.pk or parent.pk in group_descendants(child.pk):
        raise ValidationError(
            f"“{child}” cannot go inside “{parent}”: “{parent}” is already inside “{child}”, "
            "which would make a cycle."
            if parent.pk != child.pk
            else f"“{child}” cannot contain itself."
        )
    _, created = GroupNesting.objects.get_or_create(parent=parent, child=child)
    if created:
        audit_record(actor=actor, action="group.nest", target=parent, after={"subgroup": child.name})


@transaction.atomic
def group_unnest(*, actor: User | None, parent: Group, child: Group) -> None:
    with permissions_watched(group_people(child.pk)):
        deleted, _ = GroupNesting.objects.filter(parent=parent, child=child).delete()
    if deleted:
        audit_record(actor=actor, action="group.unnest", target=parent, before={"subgroup": child.name})


# --- Consent ----------------------------------------------------------------------------------


@transaction.atomic
def consent_remember(*, user: User, client: Client, audience: str, scopes: Iterable[str]) -> Consent:
    """Record that ``user`` allowed ``client`` these scopes (for this audience)."""
    consent, _ = Consent.objects.get_or_create(
        user=user, client=client, audience=audience, scopes=" ".join(sorted(set(scopes)))
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User | None, consent: Consent) -> None:
    """Forget a consent: the next sign-in to that application asks again."""
    audit_record(
        actor=actor,
        action="consent.revoke",
        target=consent.user,
        before={"client": consent.client.client_id, "audience": consent.audience, "scopes": consent.scopes},
    )
    consent.delete()


# --- Rules ------------------------------------------------------------------------------------


@transaction.atomic
def rule_update(*, actor: User | None, rule: RuleSetting, enabled: bool, position: int) -> RuleSetting:
    before = snapshot(rule, ("enabled", "position"))
    rule.enabled, rule.position = enabled, position
    rule.save(update_fields=["enabled", "position"])
    audit_record(
        actor=actor,
        action="rule.update",
        target=rule,
        before=before,
        after=snapshot(rule, ("enabled", "position")),
    )
    return rule


@transaction.atomic
def rule_move(*, actor: User | None, rule: RuleSetting, offset: int) -> list[RuleSetting]:
    """Move ``rule`` ``offset`` places in the running order (negative: earlier); the new order.

    The rules are numbered 0, 1, 2… in their new order and only those whose position changes
    are written, each audited as a ``rule.update``: stored positions may tie or have gaps (a
    rule left the settings), and this repairs them. A move past either end is refused with a
    ValidationError.
    """
    order = registered_rules()
    index = next((i for i, setting in enumerate(order) if setting.pk == rule.pk), None)
    if index is None:
        raise ValidationError("This rule is not in settings.AUTHZ_RULES.")
    name = rule.path.rsplit(".", 1)[-1]
    if not 0 <= index + offset < len(order):
        raise ValidationError(f"“{name}” is already {'first' if offset < 0 else 'last'}.")
    order.insert(index + offset, order.pop(index))
    for position, setting in enumerate(order):
        if setting.position != position:
            rule_update(actor=actor, rule=setting, enabled=setting.enabled, position=position)
    return order


# --- Tokens -----------------------------------------------------------------------------------

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def grant_revoke(
    *,
    grant_id: Any,
    actor: User | None,
    action: str,
    target: Any = None,
    before: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """End a grant everywhere: its access tokens at the APIs, its refresh tokens and
    access-token rows in the database; audited as ``action``.

    A grant is one sign-in (or one client-credentials token) and everything minted from it:
    its id is the ``gid`` claim of its access tokens and the ``token_family`` of its
    refresh tokens. The revocation list is written first, so the APIs refuse the tokens
    even if the database then fails (the caller sees the error and retries).
    """
    revoke_grant(grant_id)
    with transaction.atomic():
        RefreshToken.revoke_family(grant_id)
        token_ids = AccessTokenRecord.objects.filter(grant_id=grant_id).values("access_token_id")
        AccessToken.objects.filter(pk__in=token_ids).delete()
        audit_record(
            actor=actor,
            action=action,
            target=target,
            before=before,
            after={"grant": str(grant_id), **(details or {})},
        )


def refresh_token_revoke(*, actor: User | None, token: AbstractRefreshToken) -> None:
    """End the grant ``token`` continues: it, the rest of its family and their access tokens.

    With rotation the live token is only the newest of its family; revoking the family also
    removes access tokens minted from the earlier ones.
    """
    before = {"client": token.application.client_id, "token": token.pk, "created": token.created.isoformat()}
    if token.token_family:
        grant_revoke(
            grant_id=token.token_family,
            actor=actor,
            action="refresh_token.revoke",
            target=token.user,
            before=before,
        )
        return
    with transaction.atomic():
        token.revoke()
        audit_record(actor=actor, action="refresh_token.revoke", target=token.user, before=before)


@transaction.atomic
def user_access_revoke(*, user: User) -> int:
    """Revoke every refresh token and access token ``user`` holds; how many refresh tokens.

    Not audited on its own: ``accounts.services.user_deactivate`` takes it as its
    ``revoke_access`` and records the count in its own entry.
    """
    revoke_user_tokens(user.sub)
    tokens = list(RefreshToken.objects.filter(user=user, revoked__isnull=True))
    for token in tokens:
        token.revoke()
    AccessToken.objects.filter(user=user).delete()
    return len(tokens)


@transaction.atomic
def user_access_forget(*, user: User) -> int:
    """Everything ``user`` holds here goes: tokens (as ``user_access_revoke``), roles, group
    memberships and consents; how many refresh tokens were revoked.

    ``accounts.services.user_delete`` takes it as its ``revoke_access`` and audits the count.
    """
    revoked = user_access_revoke(user=user)
    with permissions_watched([user]):
        user.roles.clear()
        user.authz_groups.clear()
    Consent.objects.filter(user=user).delete()
    return revoked
