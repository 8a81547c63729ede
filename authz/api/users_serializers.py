"""The Management API's representation of a person, and what its user operations accept.

A person is named by ``user_id``, their OIDC ``sub``, never the database id; so is their
manager. Serializers resolve the ids they are given (a manager, groups) the way the
dashboard's form fields do, and refuse unknown ones on their own field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import STATUSES, user_list
from apis.rest.problems import UnknownReference
from apis.rest.serializers import HttpUrlField, StrictSerializer

from ..models import Group
from .roles_serializers import MAX_ITEMS, objects_named

MAX_ID = 2**63 - 1  # database ids are 64-bit


def path_id(name: str, what: str) -> OpenApiParameter:
    """A database id in the path, as the ``<int:…>`` converter matches it (no sign)."""
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 0}, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


def ids_field(help_text: str, *, optional: bool = False) -> serializers.ListField:
    """A list of database ids, as the Management API's other batch writes take them: at least
    one, unless ``optional`` (then an empty list when left out)."""
    child = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    if optional:
        return serializers.ListField(
            child=child, max_length=MAX_ITEMS, help_text=help_text, required=False, default=list
        )
    return serializers.ListField(child=child, min_length=1, max_length=MAX_ITEMS, help_text=help_text)


def _field(name: str) -> Any:
    return User._meta.get_field(name)


class UserSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(source="sub", help_text="The person's OIDC subject (`sub`).")
    email = serializers.EmailField(
        help_text="A deleted person's is a placeholder under .invalid; see former_email."
    )
    email_verified = serializers.BooleanField()
    name = serializers.CharField()
    nickname = serializers.CharField()
    picture = serializers.SerializerMethodField()
    worker_type = serializers.ChoiceField(choices=User.WorkerType.choices)
    manager = serializers.UUIDField(
        source="manager.sub", allow_null=True, help_text="The user_id of the person they report to."
    )
    status = serializers.ChoiceField(
        choices=STATUSES,
        help_text="active; invited (no password set yet); blocked; deleted (a tombstone).",
    )
    staff_role = serializers.SerializerMethodField()
    former_email = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="date_joined")
    updated_at = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    invited_at = serializers.DateTimeField(
        allow_null=True, help_text="When the pending invitation was sent; null when none is pending."
    )
    deleted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_picture(self, person: User) -> str | None:
        return person.picture or None

    @extend_schema_field(
        serializers.ChoiceField(
            choices=User.StaffRole.choices,
            allow_null=True,
            help_text="Dashboard access (administrator or auditor); null for everyone else.",
        )
    )
    def get_staff_role(self, person: User) -> str | None:
        return person.staff_role or None

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_former_email(self, person: User) -> str | None:
        return person.former_email or None


def represent(person: User) -> dict:
    """What GET answers (and what the ETag is a digest of), read fresh."""
    return UserSerializer(User.objects.select_related("manager").get(pk=person.pk)).data


def _manager(user_id: UUID | None) -> User | None:
    if user_id is None:
        return None
    manager = user_list().filter(sub=user_id).first()
    if manager is None:
        raise UnknownReference({"manager": ["No such person (deleted people cannot be managers)."]})
    return manager


class UserFilterSerializer(serializers.Serializer):
    """The list's query parameters."""

    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="Part of the email address or name, in any case.",
    )
    status = serializers.ChoiceField(
        choices=STATUSES,
        required=False,
        help_text="Only people with this status; without it, everyone but the deleted.",
    )
    role = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only people holding this role (by id), directly or through a group.",
    )
    group = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only people in this group (by id), directly or through a group nested in it.",
    )


class UserUpdateSerializer(StrictSerializer):
    """The profile fields the dashboard lets staff edit; each one optional."""

    name = serializers.CharField(max_length=_field("name").max_length, allow_blank=True, required=False)
    nickname = serializers.CharField(
        max_length=_field("nickname").max_length, allow_blank=True, required=False
    )
    picture = HttpUrlField(max_length=_field("picture").max_length, allow_blank=True, required=False)
    worker_type = serializers.ChoiceField(choices=User.WorkerType.choices, required=False)
    manager = serializers.UUIDField(
        allow_null=True, required=False, help_text="The user_id of their manager; null for none."
    )

    def validate_manager(self, user_id: UUID | None) -> User | None:
        return _manager(user_id)


class UserCreateSerializer(StrictSerializer):
    """An invitation: the person gets an email with a single-use link to choose a password."""

    email = serializers.EmailField(max_length=_field("email").max_length)
    name = serializers.CharField(
        max_length=_field("name").max_length, allow_blank=True, required=False, default=""
    )
    worker_type = serializers.ChoiceField(
        choices=User.WorkerType.choices, required=False, default=User.WorkerType.EMPLOYEE
    )
    manager = serializers.UUIDField(
        allow_null=True, required=False, default=None, help_text="The user_id of their manager."
    )
    group_ids = ids_field("The ids of the groups they join on creation.", optional=True)

    def validate_manager(self, user_id: UUID | None) -> User | None:
        return _manager(user_id)

    def validate(self, attrs: dict) -> dict:
        attrs["groups"] = groups_named(attrs.pop("group_ids"))
        return attrs


def groups_named(ids: list[int]) -> list[Group]:
    """The groups with these ids, in order; a 400 pointing at each unknown one in ``group_ids``."""
    return objects_named(Group.objects.all(), "pk", ids, pointer="group_ids", what="group")
