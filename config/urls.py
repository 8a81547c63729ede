"""The URL map: the protocol at the paths clients expect, each app's pages under its own prefix."""

from django.conf import settings
from django.urls import include, path

from accounts.urls import accounts_urlpatterns
from authz import account
from config import views

urlpatterns = [
    path("", include("authz.oauth.urls")),
    path("api/v2/", include("authz.api.urls")),
    path("api/", include("timesheets.urls")),
    path("time/", include("timesheets.web_urls")),
    path("dashboard/apis/", include("apis.urls")),
    path("dashboard/applications/", include("clients.urls")),
    path("dashboard/overview/", include("timesheets.overview_urls")),
    path("dashboard/", include("authz.dashboard.urls")),
    path("", include(accounts_urlpatterns(account_page=account.page_urls))),
    path("", views.root, name="root"),
]

if settings.BENCH_BASELINE_VIEWS:  # benchmark only: an unauthenticated list (timesheets.bench)
    from timesheets.bench import TimesheetListBaseline

    urlpatterns.insert(0, path("bench/timesheets", TimesheetListBaseline.as_view(), name="bench-timesheets"))

handler500 = "config.views.server_error"
