"""The device authorization grant's pages and endpoint (RFC 8628): POST /oauth/device/code
for the device, /activate for the person. The protocol and the writes are in ``device`` and
``device_activation``."""

from __future__ import annotations

import json
from http import HTTPStatus
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from oauth2_provider.settings import oauth2_settings

from accounts.mfa.context import session_authentication
from accounts.models import User

from .backends import OAuthLibCore
from .client_endpoint import ClientEndpointMixin
from .device import DeviceEndpoint, user_code_display
from .device_activation import (
    device_consent,
    device_entry_wait,
    device_grant_answer,
    device_grant_by_ticket,
    device_grant_by_user_code,
    device_grant_ticket,
    device_step_up,
)
from .params import audience_as_resource


class DeviceAuthorizationView(ClientEndpointMixin):
    """POST /oauth/device/code (RFC 8628 §3.1): the device's request for a device code and a
    user code, with the back-channel endpoints' limits and RFC 6749 errors in JSON."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.POST = audience_as_resource(request.POST)  # type: ignore[assignment]
        core = OAuthLibCore(server=DeviceEndpoint(oauth2_settings.OAUTH2_VALIDATOR_CLASS()))
        headers, body, status = core.create_device_authorization_response(request)
        data = body if isinstance(body, dict) else json.loads(body)
        response = JsonResponse(data, status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


class UserCodeForm(forms.Form):
    user_code = forms.CharField(
        label="Code shown on your device",
        max_length=20,
        error_messages={"required": "Type the code your device shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


WRONG_CODE = "That code is not valid or has expired. Check the code on your device and try again."


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    """Type the code the device shows (``?user_code=`` fills it in: the device's QR code)."""
    if request.method == "POST":
        form = UserCodeForm(request.POST)
    else:
        form = UserCodeForm(initial={"user_code": request.GET.get("user_code", "")[:20]})
    status = HTTPStatus.OK
    if form.is_valid():
        wait = device_entry_wait(request)
        grant = None if wait is not None else device_grant_by_user_code(form.cleaned_data["user_code"])
        if wait is not None:
            minutes = max(1, round(wait / 60))
            form.add_error("user_code", f"Too many codes typed from here. Try again in {minutes} min.")
            status = HTTPStatus.TOO_MANY_REQUESTS
        elif grant is None:
            form.add_error("user_code", WRONG_CODE)
        else:
            query = urlencode({"ticket": device_grant_ticket(grant)})
            return HttpResponseRedirect(f"{reverse('oauth2_provider:device-confirm')}?{query}")
    return render(request, "authz/device/activate.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def activate_confirm(request: HttpRequest) -> HttpResponse:
    """Allow or deny the device, once signed in (strongly enough for the application)."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    grant = device_grant_by_ticket(request.GET.get("ticket", ""))
    consent = device_consent(grant, user) if grant is not None else None
    if grant is None or consent is None:
        return render(request, "authz/device/ended.html", status=HTTPStatus.BAD_REQUEST)
    authentication = session_authentication(request)
    step_up = device_step_up(user, consent.client, authentication)
    if step_up is not None:
        return step_up.redirect(request.get_full_path())
    if request.method == "POST":
        allowed = request.POST.get("answer") == "allow"
        if not device_grant_answer(
            grant_id=grant.pk, user=user, authentication=authentication, allowed=allowed
        ):
            return render(request, "authz/device/ended.html", status=HTTPStatus.BAD_REQUEST)
        return render(request, "authz/device/answered.html", {"consent": consent, "allowed": allowed})
    context = {"consent": consent, "user_code": user_code_display(grant.user_code)}
    return render(request, "authz/device/confirm.html", context)
