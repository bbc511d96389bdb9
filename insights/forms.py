"""The dashboard's period and jurisdiction, parsed from the URL."""

import datetime as dt

from django import forms
from django.utils import timezone

from insights.selectors import Period, last_days

PERIODS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("custom", "Custom"))
MAX_DAYS = 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        choices=PERIODS, required=False, initial="30", widget=forms.RadioSelect
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    jurisdiction = forms.ChoiceField(required=False)

    def __init__(self, *args, jurisdictions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "All jurisdictions")] + [
            (j, j) for j in jurisdictions
        ]

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("A custom period needs a start and an end date.")
            if end < start:
                raise forms.ValidationError(f"The period ends ({end}) before it starts ({start}).")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A period spans at most {MAX_DAYS} days.")
        return data

    def period_value(self) -> Period:
        """The chosen period (30 days when nothing or something invalid was chosen)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        jurisdiction = data.get("jurisdiction") or ""
        if data.get("period") == "custom":
            return Period(data["start"], data["end"], jurisdiction)
        days = int(data.get("period") or 30)
        return last_days(days, jurisdiction, today=timezone.localdate())


def default_dates(days: int = 30) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - dt.timedelta(days=days - 1), today
