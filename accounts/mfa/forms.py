"""Forms of the second factor's pages: a code from an authenticator app, a recovery code."""

from __future__ import annotations

from django import forms

from .recovery import ALPHABET, HALF, recovery_code_normalise

WRONG_CODE = "That code is not right, or was already used."
WRONG_RECOVERY_CODE = "That recovery code is not right, or was already used."


class TotpCodeForm(forms.Form):
    """Six digits; spaces (as apps show them, "123 456") are dropped. Phones offer their
    number pad and the code from an SMS-style autofill (``one-time-code``)."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code

    def wrong(self) -> None:
        self.add_error("code", WRONG_CODE)


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label="Recovery code",
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean_recovery_code(self) -> str:
        code = recovery_code_normalise(str(self.cleaned_data["recovery_code"]))
        if len(code) != 2 * HALF or not set(code) <= set(ALPHABET):
            raise forms.ValidationError(
                "Enter one of your recovery codes: ten letters and digits, like abcde-23456."
            )
        return code

    def wrong(self) -> None:
        self.add_error("recovery_code", WRONG_RECOVERY_CODE)
