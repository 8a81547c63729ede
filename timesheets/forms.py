"""Forms for the timesheet pages: they parse input; the services hold the rules (quarter hours,
at most 24 hours a day, who may decide) and the views show their errors on these forms."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from accounts.dashboard import model_form_field

from .models import Entry
from .services import hours_to_minutes


def week_days(monday: datetime.date) -> list[datetime.date]:
    return [monday + datetime.timedelta(days=offset) for offset in range(7)]


def _project_field(**kwargs: Any) -> forms.Field:
    return model_form_field(Entry, "project", **kwargs)


class EntryForm(forms.Form):
    """One entry of the week starting ``monday``: the date is one of that week's seven days."""

    date = forms.TypedChoiceField(label="Day", coerce=datetime.date.fromisoformat)
    project = _project_field(widget=forms.TextInput(attrs={"placeholder": "Apollo"}))
    hours = forms.DecimalField(
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0.25", "max": "24", "placeholder": "7.5"})
    )
    notes = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, monday: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The declared field above; ``fields`` is typed as plain Fields.
        date = cast(forms.TypedChoiceField, self.fields["date"])
        date.choices = [(day.isoformat(), f"{day:%a %d %b}") for day in week_days(monday)]

    def clean_hours(self) -> Decimal:
        # The service's own rule (a quarter hour, more than 0, at most 24), checked here too so
        # that a person sees it together with the other fields' errors, not after fixing them.
        hours = self.cleaned_data["hours"]
        try:
            hours_to_minutes(hours)
        except ValidationError as error:
            raise ValidationError(error.message_dict["hours"]) from error
        return hours

    @classmethod
    def for_entry(cls, entry: Entry, monday: datetime.date, data=None) -> EntryForm:
        # Its own ids, so that it can sit in the same page as the add form.
        initial = {
            "date": entry.date.isoformat(),
            "project": entry.project,
            "hours": format(entry.hours, "f"),  # 10, not 1E+1
            "notes": entry.notes,
        }
        return cls(data, monday=monday, initial=initial, auto_id=f"id_entry_{entry.pk}_%s")


class RejectForm(forms.Form):
    # Not required here: entry_decide says why a reason is needed, in the words the API uses.
    reason = forms.CharField(required=False, max_length=1000)


class ConfirmForm(forms.Form):
    """The "yes" to a one-way action (submit a week, approve): htmx sends it once its dialog
    was accepted; without JavaScript, the confirmation page's form sends it."""

    confirmed = forms.BooleanField(widget=forms.HiddenInput, initial=True)
