"""The Import / Export section of the staff dashboard.

Export downloads the configuration (APIs, applications, client grants, roles, groups,
rules; never a secret) as JSON. Import is two steps: upload a
file and see every change it would make, then apply it. The file travels back with the
Apply button in a hidden field (not in the session), and is validated and planned again
before anything is written.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.dashboard import HtmxHttpRequest, navigate, render_page, wants_fragment
from accounts.decorators import staff_required
from authz.transfer import ImportPlan, apply_import, export_config, load_config, plan_import

from .forms import ApplyForm, ImportForm

logger = logging.getLogger(__name__)

TEMPLATE = "authz/transfer/index.html"


def _apply_form(text: str, plan: ImportPlan) -> ApplyForm:
    return ApplyForm(initial={"config": text, "fingerprint": plan.fingerprint})


def _render(request: HtmxHttpRequest, *, status: int = HTTPStatus.OK, **context: Any) -> HttpResponse:
    """The page, or its import fragment alone (for htmx): only the page shows the export."""
    context.setdefault("import_form", ImportForm())
    if wants_fragment(request):
        return render_page(request, TEMPLATE, context, fragment="importer", status=status)
    config = export_config()
    context["export"] = {
        "apis": len(config["apis"]),
        "applications": len(config["applications"]),
        "client_grants": len(config["client_grants"]),
        "roles": len(config["roles"]),
        "groups": len(config["groups"]),
        "assignments": sum(len(emails) for emails in config["role_assignments"].values()),
        "rules": len(config["rules"]),
    }
    return render_page(request, TEMPLATE, context, status=status)


def _problems(request: HtmxHttpRequest, text: str, error: ValidationError) -> HttpResponse:
    """The import form again, holding ``text`` with its problems next to it."""
    form = ImportForm(data={"text": text})
    form.is_valid()
    form.add_config_errors(error)
    return _render(request, import_form=form, problems=len(error.messages))


@require_GET
@staff_required
def transfer_index(request: HtmxHttpRequest) -> HttpResponse:
    return _render(request)


@require_GET
@never_cache
@staff_required
def transfer_export(request: HtmxHttpRequest) -> HttpResponse:
    body = json.dumps(export_config(), indent=2, ensure_ascii=False) + "\n"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"abc-identity-config-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    logger.info("configuration exported: user=%s", request.user.pk)
    return response


@require_POST
@staff_required
def transfer_preview(request: HtmxHttpRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, import_form=form)
    text = form.cleaned_data["content"]
    try:
        plan = plan_import(load_config(text))
    except ValidationError as error:
        form.add_config_errors(error)
        return _render(request, import_form=form, problems=len(error.messages))
    return _render(request, plan=plan, apply_form=_apply_form(text, plan))


@require_POST
@staff_required
def transfer_apply(request: HtmxHttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _render(
            request, status=HTTPStatus.BAD_REQUEST, error="The import was incomplete: upload the file again."
        )
    text = form.cleaned_data["config"]
    try:
        plan = plan_import(load_config(text))
    except ValidationError as error:
        return _problems(request, text, error)
    if plan.fingerprint != form.cleaned_data["fingerprint"]:
        return _render(
            request,
            plan=plan,
            apply_form=_apply_form(text, plan),
            error="The configuration changed since this preview. Nothing was applied: review it again.",
        )
    try:
        result = apply_import(actor=request.user, plan=plan)
    except ValidationError as error:
        return _problems(request, text, error)
    changes = result.changes
    logger.info("configuration imported: changes=%s user=%s", len(changes), request.user.pk)
    summary = (
        f"Import applied: {len(changes)} change{'s' if len(changes) != 1 else ''}."
        if changes
        else "The configuration already matched the file: nothing changed."
    )
    if result.secrets:
        # Shown on this response only: never stored in the session or a message cookie.
        response = _render(request, applied=summary, secrets=sorted(result.secrets.items()))
        add_never_cache_headers(response)
        return response
    messages.success(request, summary)
    return navigate(request, "transfer:index")
