"""django-csp's middleware, without building the same policy again for every response.

The header depends on the settings alone unless a view changed it (django-csp's decorators
set ``_csp_config``, ``_csp_update`` or ``_csp_replace`` on the response) or the page drew a
nonce: those responses take django-csp's own path. Every other response gets the header
built once per settings (tokens and API reads are short: building it cost as much as a
tenth of a token request).
"""

from __future__ import annotations

import http.client
from functools import cache
from typing import Any

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")


@cache
def _policies() -> tuple[str, str]:
    """The enforced and the report-only header as the settings alone make them."""
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        _policies.cache_clear()


class CSPMiddleware(csp_middleware.CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        nonce_drawn = isinstance(getattr(request, "_csp_nonce", None), str)
        if nonce_drawn or any(hasattr(response, name) for name in _PER_RESPONSE):
            return super().process_response(request, response)
        debug_page = response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
        if debug_page and settings.DEBUG:
            return response
        enforced, report_only = _policies()
        for header, policy, exempt, setting in (
            (HEADER, enforced, "_csp_exempt", _SETTINGS[0]),
            (HEADER_REPORT_ONLY, report_only, "_csp_exempt_ro", _SETTINGS[1]),
        ):
            excluded = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header was written is an error.
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
