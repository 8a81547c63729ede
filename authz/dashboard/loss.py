"""What a change on the dashboard would take away, said on its confirmation before it is made.

Each ``*_loss`` function previews one change with ``permission_loss_preview`` (the bare
model change the matching service makes, rolled back) and returns the sentence its
confirmation shows: who loses permissions on which APIs, and how many live grants that
reaches. ``confirm_removal`` renders the confirm step of a one-click removal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpResponse
from django.utils.text import get_text_list

from accounts.dashboard import HtmxHttpRequest, render_page_or_fragment, wants_fragment
from accounts.models import User
from apis.models import Api, Scope
from authz.models import Group, GroupNesting, Role
from authz.permission_loss import group_people, live_grants, permission_loss_preview
from authz.selectors import holders_of_roles

NOBODY = "Nobody loses a permission."


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _api_names(identifiers: set[str]) -> str:
    """The APIs' names, e.g. "Billing API and Timesheets API"."""
    names = Api.objects.filter(identifier__in=identifiers).order_by("name").values_list("name", flat=True)
    return str(get_text_list(list(names), "and"))


def _sentence(people: Iterable[User], change: Callable[[], object]) -> str:
    """E.g. "2 people lose permissions on Timesheets API; 3 live grants are cut back: …"."""
    loss = permission_loss_preview(people, change)
    if not loss.lost:
        return NOBODY
    who = f"{_plural(loss.people, 'person loses', 'people lose')} permissions on {_api_names(loss.apis)}"
    grants = live_grants(loss)
    if not grants:
        return f"{who}; no live grant is affected."
    # A grant does not end: its tokens for the API are refused, its next refresh narrows.
    cut = _plural(grants, "live grant is", "live grants are")
    return f"{who}; {cut} cut back: their tokens there are refused, and a refresh gets only what is left."


def _role_holders(role: Role) -> list[User]:
    return [holder.user for holder in holders_of_roles({role.pk: role.name})]


def role_permissions_loss(role: Role, permissions: Iterable[Scope]) -> str:
    """Giving ``role`` exactly ``permissions``."""
    return _sentence(_role_holders(role), lambda: role.permissions.set(list(permissions)))


def role_unassign_loss(role: Role, user: User) -> str:
    return _sentence([user], lambda: role.users.remove(user))


def role_delete_loss(role: Role) -> str:
    # A queryset delete: ``role.delete()`` would clear the pk of the instance the page shows.
    return _sentence(_role_holders(role), lambda: Role.objects.filter(pk=role.pk).delete())


def group_member_loss(group: Group, user: User) -> str:
    return _sentence([user], lambda: group.members.remove(user))


def group_role_loss(group: Group, role: Role) -> str:
    return _sentence(group_people(group.pk), lambda: group.roles.remove(role))


def group_unnest_loss(parent: Group, child: Group) -> str:
    return _sentence(
        group_people(child.pk), lambda: GroupNesting.objects.filter(parent=parent, child=child).delete()
    )


def group_delete_loss(group: Group) -> str:
    return _sentence(group_people(group.pk), lambda: Group.objects.filter(pk=group.pk).delete())


def confirm_removal(
    request: HtmxHttpRequest,
    *,
    question: str,
    loss: str,
    action: str,
    cancel: str,
    target: str,
    button: str = "Remove",
    q: str = "",
) -> HttpResponse:
    """The confirm step of a one-click removal: a page, or for htmx the box that replaces the
    button in its row. Confirming posts to ``action``; htmx then swaps ``target`` (an id)."""
    context = {
        "question": question,
        "loss": loss,
        "action": action,
        "cancel": cancel,
        "target": target,
        "button": button,
        "q": q,
        # In the page, a plain form: the section htmx would swap is not there.
        "inline": wants_fragment(request),
    }
    return render_page_or_fragment(request, "authz/confirm_removal.html", "confirm", context)
