"""Navigation for every page: the dashboard's sidebar and the bar above people's own pages.

Sections are URL names, looked up when a page renders: a section whose app has not
registered its URLs yet (the overview, the logs) is left out rather than linked to nothing.
``accounts`` imports no other app, so names are the only thing it knows of theirs.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (label, URL names to try in order). Empty tries mean "always there".
DASHBOARD_SECTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("Home", ("accounts:dashboard",)),
    ("Overview", ("overview:index",)),
    ("Logs", ("logs:list", "logs:index", "authz-dashboard:logs")),
    ("APIs", ("apis:list",)),
    ("Applications", ("clients:list",)),
    ("Users", ("accounts:user_list",)),
    ("Roles", ("roles:list",)),
    ("Groups", ("groups:list",)),
    ("Rules", ("rules:list",)),
    ("Multi-factor", ("mfa:policy",)),
    ("Token preview", ("preview:index",)),
    ("Import / Export", ("transfer:index",)),
    ("Bulk jobs", ("timesheets:bulk_list",)),
    ("Lockouts", ("accounts:lockouts",)),
    ("Audit log", ("audit:list",)),
]

# Pages of the protocol itself (consent, sign-in, sign-out): a person there is in the
# middle of an application's flow, and a menu would only offer them a way out of it.
NO_SITE_NAV_PREFIXES = ("/authorize", "/oauth/", "/login/", "/logout/")


def _url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def _dashboard_items(path: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for label, names in DASHBOARD_SECTIONS:
        url = _url(*names)
        if url is None:
            continue
        # Home is /dashboard/, the prefix of every section: it is current only on itself.
        active = path == url if names[0] == "accounts:dashboard" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return items


def _site_items(request: HttpRequest, *, in_dashboard: bool) -> list[dict[str, object]]:
    entries = [("My week", "timesheets:week"), ("Your account", "accounts:home")]
    if request.user.is_staff and not in_dashboard:
        entries.append(("Dashboard", "accounts:dashboard"))
    items: list[dict[str, object]] = []
    for label, name in entries:
        url = _url(name)
        if url is not None:
            items.append({"label": label, "url": url, "active": request.path == url})
    return items


def _navigable(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated and not request.path.startswith(NO_SITE_NAV_PREFIXES)


def site_nav(request: HttpRequest) -> dict[str, list[dict[str, object]]]:
    """``site_nav``: My week, the account page and, for staff off the dashboard, the
    dashboard, for every signed-in person off the protocol's pages. Sign-out is a POST
    form the templates add beside them."""
    if not _navigable(request):
        return {}
    return {"site_nav": _site_items(request, in_dashboard=request.path.startswith("/dashboard/"))}


def dashboard_nav(request: HttpRequest) -> dict[str, list[dict[str, object]]]:
    """``dashboard_nav``: the sidebar's sections, on /dashboard/ pages."""
    if not _navigable(request) or not request.path.startswith("/dashboard/"):
        return {}
    return {"dashboard_nav": _dashboard_items(request.path)}
