from django.urls import path

from . import groups

app_name = "groups"

urlpatterns = [
    path("", groups.group_list, name="list"),
    path("new/", groups.group_create, name="create"),
    path("<int:pk>/", groups.group_detail, name="detail"),
    path("<int:pk>/settings/", groups.group_update, name="update"),
    path("<int:pk>/delete/", groups.group_delete, name="delete"),
    path("<int:pk>/members/", groups.group_member_add, name="member_add"),
    path("<int:pk>/members/<int:user_pk>/remove/", groups.group_member_remove, name="member_remove"),
    path("<int:pk>/roles/", groups.group_role_add, name="role_add"),
    path("<int:pk>/roles/<int:role_pk>/remove/", groups.group_role_remove, name="role_remove"),
    path("<int:pk>/subgroups/", groups.group_subgroup_add, name="subgroup_add"),
    path("<int:pk>/subgroups/<int:child_pk>/remove/", groups.group_subgroup_remove, name="subgroup_remove"),
]
