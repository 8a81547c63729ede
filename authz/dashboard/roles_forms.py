"""Forms of the Roles and Groups dashboard pages: they parse input; the services validate and write."""

from __future__ import annotations

from django import forms

from accounts.selectors import user_list
from apis.forms import add_service_errors
from apis.models import Api, Scope
from authz.models import Group, Role

__all__ = [
    "GroupForm",
    "PermissionsForm",
    "RoleForm",
    "RolePickForm",
    "SubgroupForm",
    "UserPickForm",
    "WhoCanForm",
    "add_service_errors",
]


# Labels, lengths and help come from the models, so that the forms and the models agree; the
# services check uniqueness and the views show those errors on the same form.
class RoleForm(forms.Form):
    name = Role._meta.get_field("name").formfield(
        widget=forms.TextInput(attrs={"placeholder": "Timesheet approver"})
    )
    description = Role._meta.get_field("description").formfield(
        widget=forms.TextInput(attrs={"placeholder": "Approves the timesheets of their reports"})
    )

    @classmethod
    def for_role(cls, role: Role, data=None) -> RoleForm:
        return cls(data, initial={"name": role.name, "description": role.description})


class GroupForm(forms.Form):
    name = Group._meta.get_field("name").formfield(widget=forms.TextInput(attrs={"placeholder": "Managers"}))
    description = Group._meta.get_field("description").formfield(
        widget=forms.TextInput(attrs={"placeholder": "Everyone who manages a team"})
    )

    @classmethod
    def for_group(cls, group: Group, data=None) -> GroupForm:
        return cls(data, initial={"name": group.name, "description": group.description})


class PermissionsForm(forms.Form):
    """A role's permissions: one checkbox per scope of every API."""

    permissions = forms.ModelMultipleChoiceField(
        label="Permissions",
        queryset=Scope.objects.select_related("api").order_by("api__name", "api_id", "value"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def for_role(cls, role: Role, data=None) -> PermissionsForm:
        return cls(data, initial={"permissions": list(role.permissions.values_list("pk", flat=True))})

    def by_api(self) -> list[tuple[Api, list[tuple[forms.BoundWidget, Scope]]]]:
        """The checkboxes grouped by API (one fieldset each), each with its scope."""
        fieldsets: list[tuple[Api, list[tuple[forms.BoundWidget, Scope]]]] = []
        for box in self["permissions"]:
            scope = box.data["value"].instance
            if not fieldsets or fieldsets[-1][0].pk != scope.api_id:
                fieldsets.append((scope.api, []))
            fieldsets[-1][1].append((box, scope))
        return fieldsets


class UserPickForm(forms.Form):
    """The user picked from the search results."""

    user = forms.ModelChoiceField(queryset=user_list(), widget=forms.HiddenInput)


class RolePickForm(forms.Form):
    role = forms.ModelChoiceField(label="Role", queryset=Role.objects.none(), empty_label="Choose a role…")

    def __init__(self, group: Group, data=None) -> None:
        super().__init__(data, auto_id="id_add_role_%s")
        # The roles the group does not hold yet: adding one it holds would change nothing.
        self.fields["role"].queryset = Role.objects.exclude(groups=group).order_by("name")


class SubgroupForm(forms.Form):
    subgroup = forms.ModelChoiceField(
        label="Group to nest", queryset=Group.objects.none(), empty_label="Choose a group…"
    )

    def __init__(self, group: Group, data=None) -> None:
        super().__init__(data, auto_id="id_add_subgroup_%s")
        # Groups that already contain this one stay listed: nesting them is refused by
        # group_nest with the reason (a cycle), which the page shows next to this field.
        self.fields["subgroup"].queryset = (
            Group.objects.exclude(pk=group.pk).exclude(parent_groups=group).order_by("name")
        )


class WhoCanForm(forms.Form):
    """A permission (an API scope), picked from a select grouped by API."""

    scope = forms.TypedChoiceField(label="Permission", coerce=int)

    def __init__(self, data=None) -> None:
        super().__init__(data, auto_id="id_who_can_%s")
        self.scopes = {
            scope.pk: scope
            for scope in Scope.objects.select_related("api").order_by("api__name", "api_id", "value")
        }
        by_api: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        for scope in self.scopes.values():
            by_api.setdefault(scope.api_id, (scope.api.name, []))[1].append((scope.pk, scope.value))
        self.fields["scope"].choices = [("", "Choose a permission…"), *by_api.values()]

    def clean_scope(self) -> Scope:
        return self.scopes[self.cleaned_data["scope"]]
