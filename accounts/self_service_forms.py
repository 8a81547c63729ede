"""Forms of the self-service pages: sign in, ask for a reset link, set a password, change it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm

from .identifiers import IDENTIFIER_MAX


class SignInForm(AuthenticationForm):
    """Django's, with the email address typed as one: phones offer their email keyboard and
    browsers check the shape before posting. The field keeps its name (``username``), which
    django-axes and password managers read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True, "maxlength": 254}
        )


class PasswordForgotForm(forms.Form):
    email = forms.EmailField(
        label="Work email",
        max_length=IDENTIFIER_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordSetForm(SetPasswordForm):
    """Django's: two entries that must match, checked by AUTH_PASSWORD_VALIDATORS, whose
    messages show under the field. ``save`` is not used: the service sets the password."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password2"].label = "New password, again"


class PasswordChangeFormWithCurrent(PasswordChangeForm):
    """Django's: the current password first, then the new one twice."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password2"].label = "New password, again"
