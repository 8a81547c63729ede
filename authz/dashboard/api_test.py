"""The API page's Test tab (as Auth0's): issue a real access token for one of the machine
applications granted the API, and show what it carries.

The token is made by the steps the token endpoint's client_credentials grant takes
(authz.oauth.client_credentials): the client's grant decides the scopes
(``decide_machine_scopes``), the enabled rules run, ``access_token_claims`` and the API's
signing make it. Only the credential check is skipped: an administrator acts for the
application, and is recorded in the audit log as having done so. The page shows the decoded
header and claims, never the token itself (it would be a working credential on the screen),
and nothing is stored.
"""

from __future__ import annotations

import json
import logging
import uuid
from http import HTTPStatus
from typing import cast

import jwt
from django import forms
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.audit import audit_record
from accounts.dashboard import HtmxHttpRequest, render_page
from accounts.decorators import staff_required
from accounts.models import User
from apis import selectors as api_selectors
from apis.models import Api
from apis.tokens import ApiSigning, mint_access_token
from apis.views import TABS
from authz.oauth.context import CLIENT_CREDENTIALS
from authz.policy import NoClientGrant, decide_machine_scopes, granted
from authz.rules import PROTOCOLS, RuleContext, RuleDenied, run_rules
from authz.token_claims import access_token_claims, access_token_lifetime
from clients.models import Client
from clients.selectors import client_grant_scopes

logger = logging.getLogger(__name__)


class _ClientChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return f"{obj.name} ({obj.client_id})"


class ApiTestForm(forms.Form):
    """The machine application to issue a token for: one of those granted the API."""

    client = _ClientChoice(
        queryset=Client.objects.none(),
        label="Machine to Machine application",
        empty_label=None,
        error_messages={"invalid_choice": "Choose an application that is authorized to call this API."},
    )

    def __init__(self, api: Api, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(_ClientChoice, self.fields["client"]).queryset = granted_clients(api)


def granted_clients(api: Api) -> QuerySet[Client]:
    """The machine applications that hold a client grant for ``api``, by name."""
    return Client.objects.filter(app_type=Client.AppType.M2M, grants__api=api).order_by("name")


@transaction.atomic
def issue_test_token(*, actor: User, client: Client, api: Api) -> str:
    """An access token for ``client`` and ``api`` with all the scopes the client was granted,
    made as the token endpoint makes it; audited as ``api.test_token``.

    Raises NoClientGrant (no grant, or one without scopes) or RuleDenied, as the endpoint would.
    """
    decisions = decide_machine_scopes(
        api=api, requested=[], client_grant=client_grant_scopes(client=client, api=api)
    )
    scopes = granted(decisions)
    rules = RuleContext(
        user=None,
        client=client,
        api=api,
        requested_scopes=(),
        granted_scopes=tuple(scopes),
        protocol=PROTOCOLS[CLIENT_CREDENTIALS],
    )
    run_rules(rules)
    claims = access_token_claims(
        user=None,
        client=client,
        api=api,
        scopes=scopes,
        lifetime=access_token_lifetime(api),
        rule_claims=rules.access_token_claims,
        grant_id=uuid.uuid4(),
    )
    token = mint_access_token(claims, signing=ApiSigning.of(api))
    audit_record(
        actor=actor,
        action="api.test_token",
        target=api,
        after={"client_id": client.client_id, "scope": " ".join(scopes), "jti": claims.get("jti", "")},
    )
    return token


def _decoded(token: str) -> dict[str, str]:
    # Made a moment ago by this server: what it says, formatted for reading.
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return {
        "header": json.dumps(header, indent=2, sort_keys=True),
        "claims": json.dumps(claims, indent=2, sort_keys=True),
    }


@require_http_methods(["GET", "POST"])
@never_cache
@staff_required
def api_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the form; POST (administrators: staff_required lets auditors only look): issue
    a token for the chosen application and show its decoded header and claims."""
    try:
        api = api_selectors.api_get(pk=pk)
    except Api.DoesNotExist as error:
        raise Http404("No such API.") from error
    form = ApiTestForm(api, request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"api": api, "tab": "test", "tabs": TABS.items(), "form": form}
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            client = form.cleaned_data["client"]
            try:
                token = issue_test_token(actor=request.user, client=client, api=api)
            except NoClientGrant as error:  # its message reads after the client's name
                form.add_error("client", f"The token endpoint would refuse it: {client.name} {error}.")
            except RuleDenied as error:
                form.add_error("client", f"The token endpoint would refuse it: {error}")
            else:
                logger.info("test token issued: api=%s client=%s user=%s", api.pk, client.pk, request.user.pk)
                context |= {"decoded": _decoded(token), "client": client}
        if not form.is_valid():
            status = HTTPStatus.BAD_REQUEST
    return render_page(request, "authz/api_test.html", context, status=status)
