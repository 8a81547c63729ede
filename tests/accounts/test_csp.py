"""Our CSP middleware writes exactly the headers django-csp's own would, only faster."""

from __future__ import annotations

import pytest
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.csp import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path: str, prepare) -> dict[str, str | None]:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("<p>page</p>")
        prepare(request, response)
        return response

    request = RequestFactory().get(path)
    middleware = middleware_class(view)
    response = middleware(request)
    return {name: response.get(name) for name in HEADERS}


def _draw_nonce(request, response):
    str(request.csp_nonce)


def _update(request, response):
    response._csp_update = {"img-src": ["https://cdn.example"]}


def _exempt(request, response):
    response._csp_exempt = True


def _already_set(request, response):
    response["Content-Security-Policy"] = "default-src 'none'"


@pytest.mark.parametrize(
    "prepare", [lambda request, response: None, _draw_nonce, _update, _exempt, _already_set]
)
@pytest.mark.parametrize("report_only", [False, True])
def test_the_same_headers_as_django_csp(prepare, report_only, settings):
    if report_only:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
            "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report"},
            "EXCLUDE_URL_PREFIXES": ["/excluded"],
        }
    for path in ("/dashboard/", "/excluded/page"):
        ours = _headers(CSPMiddleware, path, prepare)
        theirs = _headers(DjangoCSPMiddleware, path, prepare)
        if prepare is _draw_nonce:  # a fresh nonce each time: compare without it
            ours = {k: v and v.split("'nonce-")[0] for k, v in ours.items()}
            theirs = {k: v and v.split("'nonce-")[0] for k, v in theirs.items()}
        assert ours == theirs


def test_a_changed_setting_changes_the_header(settings):
    before = _headers(CSPMiddleware, "/", lambda request, response: None)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    after = _headers(CSPMiddleware, "/", lambda request, response: None)["Content-Security-Policy"]
    assert before != after == "default-src 'none'"
