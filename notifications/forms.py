"""Forms of notifications: which kinds a person also receives by email."""

from django import forms

from notifications.models import Kind


class EmailPreferencesForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Also email me when",
    )
