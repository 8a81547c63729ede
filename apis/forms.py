"""Dashboard forms: they parse input; the services validate against the model and write."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.dashboard import model_form_field

from .models import MAX_TOKEN_LIFETIME, Api, Scope, identifier_validator, scope_value_validator


# Labels, help texts and format validators come from the model, so that the form and the model
# never disagree and a person sees every format error at once; the services check the rest
# (uniqueness, OIDC scope names) and the views show those errors on the same form.
def _api_field(name: str, **kwargs: Any) -> forms.Field:
    return model_form_field(Api, name, **kwargs)


def _scope_field(name: str, **kwargs: Any) -> forms.Field:
    return model_form_field(Scope, name, **kwargs)


class ApiCreateForm(forms.Form):
    name = _api_field("name")
    identifier = _api_field(
        "identifier",
        validators=[identifier_validator],
        widget=forms.TextInput(attrs={"placeholder": "https://api.abcinc.example/"}),
    )
    signing_algorithm = _api_field("signing_algorithm")


class ApiSettingsForm(forms.Form):
    name = _api_field("name")
    # Shown for reference only: a disabled field ignores whatever a request posts for it.
    identifier = _api_field("identifier", disabled=True, required=False)
    token_lifetime = _api_field("token_lifetime", min_value=60, max_value=MAX_TOKEN_LIFETIME)
    allow_offline_access = _api_field("allow_offline_access")
    rbac_enabled = _api_field("rbac_enabled")
    add_permissions_claim = _api_field("add_permissions_claim")
    allow_skip_consent = _api_field("allow_skip_consent")

    @classmethod
    def for_api(cls, api: Api, data=None) -> ApiSettingsForm:
        initial = {name: getattr(api, name) for name in cls.base_fields}
        form = cls(data, initial=initial)
        # The Management API keeps its name; a disabled field ignores what is posted for it.
        form.fields["name"].disabled = api.system
        return form

    def settings(self) -> dict[str, object]:
        """The cleaned values that api_update may change (everything but the identifier)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "identifier"}


class ScopeForm(forms.Form):
    value = _scope_field(
        "value",
        validators=[scope_value_validator],
        widget=forms.TextInput(attrs={"placeholder": "read:timesheets"}),
    )
    description = _scope_field(
        "description", widget=forms.TextInput(attrs={"placeholder": "Read timesheets"})
    )
