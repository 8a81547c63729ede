"""The authorization dashboard's URLs, one namespace per section (``roles:list``, ``users:detail``…)."""

from __future__ import annotations

from django.urls import include, path

from . import api_test, groups, mfa, people, preview, roles, rules, transfer, users

roles_urls = [
    path("", roles.role_list, name="list"),
    path("new/", roles.role_create, name="create"),
    path("who-can/", roles.who_can, name="who_can"),
    path("<int:pk>/", roles.role_detail, name="detail"),
    path("<int:pk>/settings/", roles.role_update, name="update"),
    path("<int:pk>/delete/", roles.role_delete, name="delete"),
    path("<int:pk>/permissions/", roles.role_permissions, name="permissions"),
    path("<int:pk>/users/", roles.role_assign, name="assign"),
    path("<int:pk>/users/<int:user_pk>/remove/", roles.role_unassign, name="unassign"),
]

groups_urls = [
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

rules_urls = [
    path("", rules.rule_list, name="list"),
    path("<int:pk>/", rules.rule_change, name="change"),
]

preview_urls = [
    path("", preview.preview_index, name="index"),
]

transfer_urls = [
    path("", transfer.transfer_index, name="index"),
    path("export/", transfer.transfer_export, name="export"),
    path("import/", transfer.transfer_preview, name="preview"),
    path("import/apply/", transfer.transfer_apply, name="apply"),
]

users_urls = [
    path("new/", people.user_create, name="create"),
    path("import/", people.people_import, name="import"),
    path("import/<str:job>/", people.people_import_job, name="import_job"),
    path("<int:pk>/", users.user_detail, name="detail"),
    path("<int:pk>/profile/", users.user_update, name="update"),
    path("<int:pk>/roles/", users.role_assign, name="role_assign"),
    path("<int:pk>/roles/<int:role_pk>/remove/", users.role_unassign, name="role_unassign"),
    path("<int:pk>/groups/", users.group_add, name="group_add"),
    path("<int:pk>/groups/<int:group_pk>/remove/", users.group_remove, name="group_remove"),
    path("<int:pk>/consents/<int:consent_pk>/revoke/", users.consent_revoke, name="consent_revoke"),
    path("<int:pk>/sessions/<int:session_pk>/end/", users.session_end, name="session_end"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", users.refresh_token_revoke, name="token_revoke"),
    path("<int:pk>/staff/", users.staff_role_set, name="staff_role"),
    path("<int:pk>/deactivate/", people.user_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", people.user_reactivate, name="reactivate"),
    path(
        "<int:pk>/invitation/resend/",
        people.user_lifecycle,
        {"action": "invitation_resend"},
        name="invitation_resend",
    ),
    path(
        "<int:pk>/invitation/revoke/",
        people.user_lifecycle,
        {"action": "invitation_revoke"},
        name="invitation_revoke",
    ),
    path(
        "<int:pk>/password-reset/", people.user_lifecycle, {"action": "password_reset"}, name="password_reset"
    ),
    path("<int:pk>/delete/", people.user_delete, name="delete"),
    path("<int:pk>/factors/reset/", users.factors_reset, name="factors_reset"),
]

mfa_urls = [
    path("", mfa.mfa_policy_page, name="policy"),
]

# The API page's Test tab: after apis.urls under /dashboard/apis/, which has no such path.
api_test_urls = [
    path("<int:pk>/test/", api_test.api_test, name="index"),
]

# Included under /dashboard/ by config/urls.py.
urlpatterns = [
    path("apis/", include((api_test_urls, "api_test"))),
    path("roles/", include((roles_urls, "roles"))),
    path("groups/", include((groups_urls, "groups"))),
    path("rules/", include((rules_urls, "rules"))),
    path("preview/", include((preview_urls, "preview"))),
    path("transfer/", include((transfer_urls, "transfer"))),
    path("people/", include((users_urls, "users"))),
    path("mfa/", include((mfa_urls, "mfa"))),
]
