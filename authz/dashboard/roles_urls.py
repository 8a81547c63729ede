from django.urls import path

from . import roles

app_name = "roles"

urlpatterns = [
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
