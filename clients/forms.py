"""Dashboard forms: they parse input; the services validate against the model and write."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, cast

from django import forms
from django.forms.boundfield import BoundWidget

from accounts.dashboard import model_form_field
from apis.models import Api

from .models import DAY, Client
from .services import CLIENT_SETTINGS_FIELDS
from .types import DEVICE_FLOW_TYPES, PROFILES, AppType, AuthMethod

MAX_REFRESH_LIFETIME = 365 * DAY


def _client_field(name: str, **kwargs: Any) -> forms.Field:
    return model_form_field(Client, name, **kwargs)


class UrlListField(forms.CharField):
    """A textarea of URLs, one per line, cleaned to a list (what the services take).

    The services and the model validate each URL for the application's type, so that the
    error names the URL and the rule it breaks.
    """

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"})

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, strip=False, **kwargs)

    def prepare_value(self, value: Iterable[str] | str | None) -> str:
        if value is None:
            return ""
        items = value.split() if isinstance(value, str) else value
        return "\n".join(items)

    def to_python(self, value: str | None) -> list[str]:  # type: ignore[override]  # a list, not a str
        return (value or "").split()


CALLBACKS_HELP = (
    "One URL per line. Web apps: https://…/callback (http only for localhost in development). "
    "Native apps: a reverse-domain scheme such as com.abcinc.timesheets://callback, "
    "or http://127.0.0.1/callback."
)


class ClientCreateForm(forms.Form):
    name = _client_field("name", required=True, help_text="Shown to users on the consent screen.")
    app_type = forms.ChoiceField(
        label="Application type",
        choices=AppType.choices,
        initial=AppType.REGULAR_WEB,
        widget=forms.RadioSelect(attrs={"class": "type-choice"}),
    )
    redirect_uris = UrlListField(label="Allowed callback URLs", help_text=CALLBACKS_HELP)

    def type_choices(self) -> list[tuple[BoundWidget, str]]:
        """Each type's radio button with the profile's summary, for the type picker."""
        return [(radio, PROFILES[radio.data["value"]].summary) for radio in self["app_type"]]

    def create_kwargs(self) -> dict[str, Any]:
        """The cleaned values for client_create.

        A machine-to-machine application has no callbacks: whatever the (hidden) textarea
        still holds after switching type is not its to keep.
        """
        data = dict(self.cleaned_data)
        if not PROFILES[data["app_type"]].has_callbacks:
            data.pop("redirect_uris")
        return data


LOGOUT_OPTIONS = (
    "logout_revokes_refresh_tokens",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
)


class ClientSettingsForm(forms.Form):
    """An application's settings: the fields its type has, nothing else.

    The type and client id are shown for reference only: disabled fields ignore whatever a
    request posts for them, and client_update could not change them anyway.
    """

    name = _client_field("name", required=True)
    app_type = forms.ChoiceField(
        label="Application type", choices=AppType.choices, disabled=True, required=False
    )
    client_id = forms.CharField(label="Client ID", disabled=True, required=False)
    description = _client_field("description", widget=forms.Textarea(attrs={"rows": 2}))
    logo_uri = _client_field(
        "logo_uri",
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://abcinc.example/logo.png"}),
    )
    redirect_uris = UrlListField(label="Allowed callback URLs", help_text=CALLBACKS_HELP)
    post_logout_redirect_uris = UrlListField(
        label="Allowed logout URLs",
        help_text="One URL per line: where users may be sent back after signing out.",
    )
    allowed_origins = UrlListField(
        label="Allowed web origins",
        help_text="One origin per line (https://app.abcinc.example): the browser may call "
        "the token endpoint from these.",
    )
    logout_revokes_refresh_tokens = _client_field("logout_revokes_refresh_tokens")
    backchannel_logout_uri = _client_field(
        "backchannel_logout_uri",
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://app.abcinc.example/backchannel-logout"}),
    )
    backchannel_logout_session_required = _client_field("backchannel_logout_session_required")
    token_endpoint_auth_method = _client_field("token_endpoint_auth_method")
    jwks = _client_field(
        "jwks",
        label="Public keys (JWKS)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"}),
        help_text='For private_key_jwt: {"keys": [...]} with the public half of each signing key '
        "(RSA, EC P-256 or Ed25519; never a private key). Or give a JWKS URL instead.",
    )
    jwks_uri = _client_field(
        "jwks_uri",
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://batch.abcinc.example/.well-known/jwks.json"}),
        help_text="For private_key_jwt: where the application publishes its keys (https; fetched with a "
        "3-second timeout and cached for 5 minutes).",
    )
    first_party = _client_field("first_party")
    require_mfa = _client_field("require_mfa")
    require_par = _client_field("require_par")
    require_dpop = _client_field("require_dpop")
    device_code_enabled = _client_field("device_code_enabled")
    rotate_refresh_token = _client_field("rotate_refresh_token")
    refresh_token_absolute_lifetime = _client_field(
        "refresh_token_absolute_lifetime", min_value=60, max_value=MAX_REFRESH_LIFETIME
    )
    refresh_token_idle_lifetime = _client_field(
        "refresh_token_idle_lifetime", min_value=60, max_value=MAX_REFRESH_LIFETIME
    )

    READ_ONLY = ("app_type", "client_id")

    def __init__(self, client: Client, data=None) -> None:
        initial = {name: getattr(client, name) for name in self.base_fields}
        super().__init__(data, initial=initial)
        profile = client.profile
        if not profile.has_callbacks:
            # A machine has no users: nothing to call back, log out or consent to, and no
            # refresh tokens (client credentials issues none).
            for name in (
                "redirect_uris",
                "post_logout_redirect_uris",
                *LOGOUT_OPTIONS,
                "first_party",
                "require_mfa",
                "require_par",
                "rotate_refresh_token",
                "refresh_token_absolute_lifetime",
                "refresh_token_idle_lifetime",
            ):
                del self.fields[name]
        if client.app_type != AppType.SPA:
            del self.fields["allowed_origins"]
        if client.app_type not in DEVICE_FLOW_TYPES:
            del self.fields["device_code_enabled"]
        for name in set(LOGOUT_OPTIONS).intersection(self.fields).difference(CLIENT_SETTINGS_FIELDS):
            # Offered once the settings service may change it (not before: it would refuse).
            del self.fields[name]
        if profile.is_public:
            # No client authentication at all, so no keys to authenticate with either.
            for name in ("token_endpoint_auth_method", "jwks", "jwks_uri"):
                del self.fields[name]
        else:
            # The type's methods only, its default first.
            methods = cast(forms.ChoiceField, self.fields["token_endpoint_auth_method"])
            methods.choices = [(method, AuthMethod(method).label) for method in profile.auth_methods]

    def settings(self) -> dict[str, object]:
        """The cleaned values that client_update may change."""
        return {name: value for name, value in self.cleaned_data.items() if name not in self.READ_ONLY}


class GrantForm(forms.Form):
    """One row of the APIs tab: may this machine client call ``api``, with which scopes."""

    authorized = forms.BooleanField(label="Authorized", required=False)
    scopes = forms.MultipleChoiceField(label="Scopes", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, api: Api, data=None, *, granted: Collection[str] | None = None) -> None:
        """``granted``: the scopes of the client's grant on ``api``, None when it has none."""
        initial = {"authorized": granted is not None, "scopes": sorted(granted or ())}
        # Its own ids: every API's row sits on the same page.
        super().__init__(data, initial=initial, auto_id=f"id_grant_{api.pk}_%s")
        self.api = api
        self.granted = granted
        # Sorted here rather than in SQL, so that a prefetched scopes list serves every row.
        self.api_scopes = sorted(api.scopes.all(), key=lambda scope: scope.value)
        scopes = cast(forms.MultipleChoiceField, self.fields["scopes"])
        scopes.choices = [(scope.value, scope.value) for scope in self.api_scopes]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Unticking "Authorized" ends the grant, whatever scopes are left ticked; but a scope
        # ticked now, without "Authorized", was meant to be granted: say so, save nothing.
        added = set(cleaned.get("scopes", ())) - set(self.granted or ())
        if not cleaned.get("authorized") and added:
            self.add_error(
                "scopes",
                f"Tick “Authorized” to grant {', '.join(sorted(added))}, or untick it: nothing was saved.",
            )
        return cleaned

    def scope_boxes(self) -> list[tuple[BoundWidget, str]]:
        """Each scope's checkbox with its description."""
        descriptions = {scope.value: scope.description for scope in self.api_scopes}
        return [(box, descriptions[box.data["value"]]) for box in self["scopes"]]


class IntrospectionForm(forms.Form):
    """One API's row of the Introspection card: may this confidential client introspect the
    access tokens for ``api`` (be its resource server)."""

    allowed = forms.BooleanField(label="May introspect tokens for this API", required=False)

    def __init__(self, api: Api, data=None, *, allowed: bool = False) -> None:
        # Its own ids: every API's row sits on the same page.
        super().__init__(data, initial={"allowed": allowed}, auto_id=f"id_introspection_{api.pk}_%s")
        self.api = api
