from django.urls import path

from . import users

app_name = "users"

urlpatterns = [
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
    path("<int:pk>/deactivate/", users.user_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", users.user_reactivate, name="reactivate"),
]
