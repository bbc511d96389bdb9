"""Forms for classification pages."""

from django import forms
from django.conf import settings


class ClassifySelectedForm(forms.Form):
    product = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is syntactically acceptable here; the service checks tenancy and the limit.
        self.fields["product"].valid_value = lambda value: str(value).isdigit()


class ClassifyCatalogForm(forms.Form):
    SCOPES = [
        ("unclassified", "All unclassified products"),
        ("jurisdiction", "All products of one destination (e.g. after a new rule pack)"),
    ]
    scope = forms.ChoiceField(choices=SCOPES, initial="unclassified")
    jurisdiction = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "—")] + [(j, j) for j in settings.JURISDICTIONS]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "jurisdiction" and not cleaned.get("jurisdiction"):
            self.add_error("jurisdiction", "Choose the destination whose products to classify.")
        return cleaned


class DecisionFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        required=False,
        choices=[
            ("", "All outcomes"),
            ("classified", "Classified"),
            ("needs_review", "Needs review"),
            ("blocked", "Blocked"),
        ],
    )
