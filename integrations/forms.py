"""Forms of the integrations pages: parsers only; services do the checks that matter."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from integrations.models import Scope
from integrations.services import SUBSCRIBABLE


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="Receiver URL",
        max_length=500,
        assume_scheme="https",
        help_text="HTTPS; private and loopback addresses are refused unless the administrator "
        "allows them.",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(k, f"{k} — {v}") for k, v in SUBSCRIBABLE.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)


EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("never", "Never")]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Which system uses it, e.g. 'SAP writeback'."
    )
    scope = forms.ChoiceField(label="Scope", choices=Scope.choices, initial=Scope.READ)
    expires_in = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, initial="90")

    def expires_at(self):
        value = self.cleaned_data["expires_in"]
        return None if value == "never" else timezone.now() + timedelta(days=int(value))
