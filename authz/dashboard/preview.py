"""The Token preview page: what a token would say for a user, an application and an API, and why.

It asks ``authz.preview.token_preview``, which runs the token endpoint's own policy and
rules; this module only parses the question and shows the answer.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.dashboard import HtmxHttpRequest, render_page_or_fragment
from accounts.decorators import staff_required
from authz.preview import token_preview
from clients.models import Client

from .forms import PreviewForm


def _pretty(claims: dict[str, Any] | None) -> str | None:
    if claims is None:
        return None
    return json.dumps(claims, indent=2, ensure_ascii=False, default=str)


@require_GET
@staff_required
def preview_index(request: HtmxHttpRequest) -> HttpResponse:
    # The form is a GET, so that a preview has a URL to share; unasked, it shows no result.
    asked = "client" in request.GET
    form = PreviewForm(request.GET if asked else None)
    context: dict[str, Any] = {"form": form}
    if asked and form.is_valid():
        data = form.cleaned_data
        preview = token_preview(
            user=data["user"], client=data["client"], api=data["api"], requested=data["scopes"]
        )
        context |= {
            "preview": preview,
            "machine": data["client"].app_type == Client.AppType.M2M,
            "access_token_json": _pretty(preview.access_token),
            "id_token_json": _pretty(preview.id_token),
        }
    return render_page_or_fragment(request, "authz/preview/index.html", "preview", context)
