from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", include("authz.oauth_urls")),
    path("api/", include("timesheets.urls")),
    path("dashboard/apis/", include("apis.urls")),
    path("dashboard/applications/", include("clients.urls")),
    path("", include("accounts.urls")),
    path("", RedirectView.as_view(pattern_name="accounts:home"), name="root"),
]
