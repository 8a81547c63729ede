"""Forms of the authorization dashboard: they parse input; the services validate and write."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundWidget

from accounts.dashboard import model_form_field
from accounts.models import User
from accounts.selectors import user_list
from apis.models import Api, Scope
from apis.selectors import api_list, person_scopes
from authz.models import Group, GroupNesting, Role
from clients.models import Client
from clients.selectors import client_list


def _choice(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """The declared model choice field ``name`` of ``form`` (``fields`` holds plain Fields)."""
    return cast(forms.ModelChoiceField, form.fields[name])


class UserChoiceField(forms.ModelChoiceField):
    """A person in a select: their email, and their name when they have one."""

    def label_from_instance(self, obj: User) -> str:
        return f"{obj.email} ({obj.name})" if obj.name else obj.email


# --- Roles and groups -------------------------------------------------------------------------


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
        queryset=person_scopes(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def for_role(cls, role: Role, data=None) -> PermissionsForm:
        return cls(data, initial={"permissions": list(role.permissions.values_list("pk", flat=True))})

    def by_api(self) -> list[tuple[Api, list[tuple[BoundWidget, Scope]]]]:
        """The checkboxes grouped by API (one fieldset each), each with its scope."""
        fieldsets: list[tuple[Api, list[tuple[BoundWidget, Scope]]]] = []
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
        _choice(self, "role").queryset = Role.objects.exclude(groups=group).order_by("name")


class SubgroupForm(forms.Form):
    subgroup = forms.ModelChoiceField(
        label="Group to nest", queryset=Group.objects.none(), empty_label="Choose a group…"
    )

    def __init__(self, group: Group, data=None) -> None:
        super().__init__(data, auto_id="id_add_subgroup_%s")
        # Accepted: any group but itself and those already inside it. Offered: not the groups
        # that contain it at any depth either, which would make a cycle; one posted anyway (a
        # stale page) is refused by group_nest, whose reason the page shows by this field.
        field = _choice(self, "subgroup")
        field.queryset = Group.objects.exclude(pk=group.pk).exclude(parent_groups=group).order_by("name")
        ancestors = _ancestors(group)
        choices = cast(Iterable[tuple[Any, str]], field.choices)
        offered = [(value, label) for value, label in choices if _pk(value) not in ancestors]
        cast(forms.Select, field.widget).choices = offered


def _pk(value: Any) -> Any:
    """A choice's primary key (Django wraps each in a ModelChoiceIteratorValue)."""
    return getattr(value, "value", value)


def _ancestors(group: Group) -> set[int]:
    """The ids of every group that contains ``group``, directly or through others."""
    parents: dict[int, list[int]] = {}
    for child, parent in GroupNesting.objects.values_list("child_id", "parent_id"):
        parents.setdefault(child, []).append(parent)
    seen: set[int] = set()
    stack = list(parents.get(group.pk, []))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parents.get(current, []))
    return seen


class WhoCanForm(forms.Form):
    """A permission (an API scope), picked from a select grouped by API."""

    scope = forms.TypedChoiceField(label="Permission", coerce=int)

    def __init__(self, data=None) -> None:
        super().__init__(data, auto_id="id_who_can_%s")
        self.scopes = {scope.pk: scope for scope in person_scopes()}
        by_api: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        for scope in self.scopes.values():
            by_api.setdefault(scope.api_id, (scope.api.name, []))[1].append((scope.pk, scope.value))
        scope_field = cast(forms.TypedChoiceField, self.fields["scope"])
        scope_field.choices = [("", "Choose a permission…"), *by_api.values()]

    def clean_scope(self) -> Scope:
        return self.scopes[self.cleaned_data["scope"]]


# --- Users ------------------------------------------------------------------------------------


def _user_field(name: str, **kwargs: Any) -> forms.Field:
    return model_form_field(User, name, **kwargs)


class ProfileForm(forms.Form):
    """The claims a person's tokens carry about them, and whom they report to."""

    name = _user_field("name")
    nickname = _user_field("nickname")
    picture = _user_field("picture", assume_scheme="https")
    worker_type = _user_field("worker_type")
    manager = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="No manager")

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "manager").queryset = user_list().exclude(pk=person.pk)

    @classmethod
    def for_user(cls, person: User, data=None) -> ProfileForm:
        initial = {name: getattr(person, name) for name in cls.base_fields}
        initial["manager"] = person.manager_id
        return cls(person, data, initial=initial)


class PersonCreateForm(forms.Form):
    """A new person, invited by email to choose their password."""

    email = _user_field("email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = _user_field("name")
    worker_type = _user_field("worker_type")
    manager = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="No manager")
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Initial groups",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "manager").queryset = user_list()
        _choice(self, "groups").queryset = Group.objects.order_by("name")


MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class UploadOrPasteForm(forms.Form):
    """A text document uploaded as a file or pasted (CSV of people, a configuration export):
    one of the two, at most ``MAX_UPLOAD_BYTES``, UTF-8 (a byte-order mark is dropped). The
    text is ``cleaned_data["content"]``; a problem is shown on the field it came from.
    Subclasses declare ``file`` and ``text`` with their own labels, and ``what``."""

    what = "a file"  # as in "Choose a file or paste it"

    def clean(self) -> dict[str, Any]:
        super().clean()
        # Form.clean returns cleaned_data itself; its stub says None too (an override may).
        cleaned = self.cleaned_data
        upload, text = cleaned.get("file"), cleaned.get("text", "")
        if bool(upload) == bool(text.strip()):
            raise ValidationError(f"Choose {self.what} or paste it (one of the two).")
        if upload is None:
            cleaned["content"] = text
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error("file", f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
            return cleaned
        try:
            cleaned["content"] = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            self.add_error("file", f"The file is not UTF-8 text: upload {self.what}.")
        return cleaned

    @property
    def source(self) -> str:
        """The field the text came from: where its problems are shown."""
        return "file" if self.cleaned_data.get("file") else "text"


class PeopleImportForm(UploadOrPasteForm):
    """A CSV file of people to invite, uploaded or pasted."""

    what = "a CSV file"
    file = forms.FileField(
        label="CSV file",
        required=False,
        widget=forms.FileInput(attrs={"accept": "text/csv,.csv"}),
        help_text="Columns: email, name, worker_type, manager_email, groups (separated by semicolons).",
    )
    text = forms.CharField(
        label="Or paste it",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocapitalize": "off"}),
    )


class RoleAssignForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.none(), label="Role", empty_label="Choose a role")

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "role").queryset = Role.objects.exclude(users=person).order_by("name")


class GroupAddForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.none(), label="Group", empty_label="Choose a group")

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "group").queryset = Group.objects.exclude(members=person).order_by("name")


# --- Rules ------------------------------------------------------------------------------------


class RuleChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("enable", "Enable"), ("disable", "Disable"), ("up", "Move up"), ("down", "Move down")]
    )


# --- Token preview ----------------------------------------------------------------------------

SCOPES_MAX_LENGTH = 2000


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return f"{obj.name} ({obj.get_app_type_display()})"


class ApiChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Api) -> str:
        return f"{obj.name} ({obj.identifier})"


class PreviewForm(forms.Form):
    user = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— nobody (machine-to-machine) —",
        help_text="The person signing in. Machine-to-machine applications act for themselves.",
    )
    client = ClientChoiceField(queryset=Client.objects.none(), label="Application", empty_label="— choose —")
    api = ApiChoiceField(
        queryset=Api.objects.none(),
        required=False,
        label="API (audience)",
        empty_label="none (userinfo only)",
    )
    scopes = forms.CharField(
        label="Requested scopes",
        required=False,
        max_length=SCOPES_MAX_LENGTH,
        help_text="Space-separated, as in the scope parameter, e.g. openid profile read:timesheets.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "user").queryset = user_list()
        _choice(self, "client").queryset = client_list()
        _choice(self, "api").queryset = api_list()

    def clean_scopes(self) -> list[str]:
        return self.cleaned_data["scopes"].split()


# --- Import / Export --------------------------------------------------------------------------


class ImportForm(UploadOrPasteForm):
    what = "the JSON file that Export gave you"
    file = forms.FileField(
        label="Export file",
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/json,.json"}),
        help_text="A .json file downloaded from Export.",
    )
    text = forms.CharField(
        label="Or paste its JSON",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocapitalize": "off"}),
    )

    def add_config_errors(self, error: ValidationError) -> None:
        self.add_error(self.source, error)


class ApplyForm(forms.Form):
    config = forms.CharField(widget=forms.HiddenInput, strip=False)
    # What the preview showed: applying refuses to go ahead if the changes are different now.
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
