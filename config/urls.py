from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", include("authz.oauth.urls")),
    path("api/", include("timesheets.urls")),
    path("time/", include("timesheets.web_urls")),
    path("dashboard/apis/", include("apis.urls")),
    path("dashboard/roles/", include("authz.dashboard.roles_urls")),
    path("dashboard/groups/", include("authz.dashboard.groups_urls")),
    path("dashboard/applications/", include("clients.urls")),
    path("dashboard/rules/", include("authz.dashboard.rules_urls")),
    path("dashboard/preview/", include("authz.dashboard.preview_urls")),
    path("dashboard/transfer/", include("authz.dashboard.transfer_urls")),
    path("dashboard/people/", include("authz.dashboard.users_urls")),
    path("dashboard/audit/", include("authz.dashboard.audit_urls")),
    path("", include("accounts.urls")),
    path("", RedirectView.as_view(pattern_name="timesheets:week"), name="root"),
]

handler500 = "config.views.server_error"
