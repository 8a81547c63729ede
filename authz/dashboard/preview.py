"""The Token preview page: what a token would say for a user, an application and an API, and why.

It asks ``authz.preview.token_preview``, which runs the token endpoint's own policy and
rules; this module only parses the question and shows the answer.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from accounts.models import User
from accounts.selectors import user_list
from accounts.views import HtmxHttpRequest
from apis.models import Api
from apis.selectors import api_list
from authz.preview import token_preview
from clients.models import Client
from clients.selectors import client_list

SCOPES_MAX_LENGTH = 2000


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.email} ({obj.name})" if obj.name else obj.email


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return f"{obj.name} ({obj.get_app_type_display()})"


class ApiChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Api) -> str:
        return f"{obj.name} ({obj.identifier})"


class PreviewForm(forms.Form):
    user = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— nobody (machine-to-machine) —",
        help_text="The person signing in. Machine-to-machine applications act for themselves.",
    )
    client = ClientChoiceField(queryset=Client.objects.none(), label="Application", empty_label="— choose —")
    api = ApiChoiceField(
        queryset=Api.objects.none(),
        required=False,
        label="API (audience)",
        empty_label="none (userinfo only)",
    )
    scopes = forms.CharField(
        label="Requested scopes",
        required=False,
        max_length=SCOPES_MAX_LENGTH,
        help_text="Space-separated, as in the scope parameter, e.g. openid profile read:timesheets.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = user_list()
        self.fields["client"].queryset = client_list()
        self.fields["api"].queryset = api_list()

    def clean_scopes(self) -> list[str]:
        return self.cleaned_data["scopes"].split()


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
    # A history restore needs the whole page, even though htmx asks for it.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "authz/preview/index.html#preview" if partial else "authz/preview/index.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
