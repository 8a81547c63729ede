"""Serializers the Management API's roles and groups share: a role, a person, how a person
holds a role, and the lists of people or roles a request names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import user_list
from apis.rest.problems import UnknownReference
from apis.rest.serializers import StrictSerializer
from authz.models import Role

# Names and descriptions: the lengths of the models'; at least one visible character, and
# no NUL (which no database column takes), so that what the schema allows the API accepts.
NAME_PATTERN = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"
TEXT_PATTERN = r"^[^\x00]*$"
MAX_ITEMS = 100

M = TypeVar("M", bound=Model)


def text_query(name: str, *, max_length: int, description: str, required: bool = False) -> OpenApiParameter:
    """A free-text query parameter, declared as ``query_text`` reads it."""
    schema = {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}
    return OpenApiParameter(name, schema, required=required, description=description)


def query_text(query: Any, name: str, *, max_length: int) -> str:
    """The query parameter ``name`` ("" when absent); a 400 beyond ``max_length`` or with a
    NUL, which no database column can be compared with."""
    value = query.get(name, "")
    if len(value) > max_length or "\x00" in value:
        raise serializers.ValidationError({name: [f"At most {max_length} characters, without NUL."]})
    return value


def name_field(*, required: bool = True) -> serializers.Field:
    return serializers.RegexField(NAME_PATTERN, max_length=100, required=required, trim_whitespace=False)


def description_field() -> serializers.Field:
    return serializers.RegexField(
        TEXT_PATTERN, max_length=300, required=False, allow_blank=True, trim_whitespace=False
    )


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(source="sub", help_text="The person's `sub`.")
    email = serializers.EmailField()
    name = serializers.CharField()


class RouteSerializer(serializers.Serializer):
    role = serializers.CharField()
    groups = serializers.ListField(
        child=serializers.CharField(),
        help_text="Empty when the role is assigned to the person directly; else the groups it "
        "comes through, from the one the person is a member of out to the one the role is given to "
        "(the shortest such chain).",
    )


class HolderSerializer(PersonSerializer):
    """A person holding a role or a permission, and every route by which they hold it."""

    routes = serializers.SerializerMethodField()

    @extend_schema_field(RouteSerializer(many=True))
    def get_routes(self, person: User) -> list[dict[str, Any]]:
        return [
            {"role": route.role, "groups": list(route.groups)} for route in self.context["routes"][person.pk]
        ]


class MemberSerializer(PersonSerializer):
    """A person in a group, directly or through groups nested in it."""

    paths = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.ListField(child=serializers.CharField())))
    def get_paths(self, person: User) -> list[list[str]]:
        """For each group the person is in directly, the (shortest) chain from it out to this one."""
        return [list(path) for path in self.context["paths"][person.pk]]


class UserIdsSerializer(StrictSerializer):
    user_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_ITEMS, help_text="People's `sub`s."
    )


def objects_named(
    queryset: QuerySet[M], field: str, wanted: list[Any], *, pointer: str, what: str
) -> list[M]:
    """The objects of ``queryset`` whose ``field`` is each of ``wanted``, in that order; a 404
    pointing at every item of the request's ``pointer`` list that names none."""
    found = {getattr(obj, field): obj for obj in queryset.filter(**{f"{field}__in": set(wanted)})}
    missing = {
        str(index): [f"No {what} with this id."] for index, value in enumerate(wanted) if value not in found
    }
    if missing:
        raise UnknownReference({pointer: missing})
    return [found[value] for value in wanted]


def people_named(user_ids: Iterable[UUID]) -> list[User]:
    """The people (not deleted) with these ``sub``s, in order; a 400 naming any unknown one."""
    return objects_named(user_list(), "sub", list(user_ids), pointer="user_ids", what="person")


def roles_named(role_ids: Iterable[int]) -> list[Role]:
    return objects_named(Role.objects.all(), "pk", list(role_ids), pointer="role_ids", what="role")
