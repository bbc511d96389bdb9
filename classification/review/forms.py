"""Forms of the review workbench: parsers for filters and actions (services judge content)."""

from django import forms
from django.conf import settings

from catalog import facts as catalog_facts
from classification.models import OverrideReason, Route
from classification.review import selectors
from rulepacks import routing

AGE_CHOICES = [
    ("", "Any age"),
    ("1", "Older than a day"),
    ("7", "Older than a week"),
    ("30", "Older than 30 days"),
]


SOURCE_CHOICES = [
    ("", "Any source"),
    ("rule", "Rule"),
    ("precedent", "Precedent"),
    ("search", "Search"),
]


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(required=False, choices=[(q.key, q.label) for q in selectors.QUEUES])
    q = forms.CharField(required=False, max_length=200, strip=True, label="Search")
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "Any reason"), *sorted(routing.REASON_LABELS.items(), key=lambda i: i[1])],
    )
    risk = forms.ChoiceField(
        required=False,
        choices=[("", "Any risk"), ("high", "High"), ("medium", "Medium"), ("low", "Low")],
    )
    jurisdiction = forms.ChoiceField(required=False)
    pack = forms.CharField(required=False, max_length=100, label="Rule pack version")
    # The insights dashboard links a rule's overridden decisions here.
    rule = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    origin = forms.RegexField(
        required=False,
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        label="Origin",
        error_messages={"invalid": "Give a two-letter country code, for example CN."},
    )
    source = forms.ChoiceField(required=False, choices=SOURCE_CHOICES, label="Evidence")
    assignee = forms.CharField(required=False, max_length=150)
    age = forms.ChoiceField(required=False, choices=AGE_CHOICES)
    sort = forms.ChoiceField(required=False, choices=list(selectors.SORT_LABELS.items()))
    after = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "Any")] + [
            (j, j) for j in settings.JURISDICTIONS
        ]

    def values(self) -> dict:
        """Return the cleaned values, dropping any that failed (a bad filter filters nothing)."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}


class VersionedForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class AcceptForm(VersionedForm):
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class OverrideForm(VersionedForm):
    code = forms.CharField(required=False, max_length=20)
    reason_code = forms.ChoiceField(
        required=False, label="Reason", choices=[("", "Choose a reason…"), *OverrideReason.choices]
    )
    note = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    ruling_reference = forms.CharField(
        required=False, max_length=40, label="Ruling reference (optional)"
    )


class EscalateForm(VersionedForm):
    route = forms.ChoiceField(required=False, choices=[("", "Choose a route…"), *Route.choices])
    note = forms.CharField(
        required=False, max_length=4000, label="Reason", widget=forms.Textarea(attrs={"rows": 2})
    )


class RequestInfoForm(VersionedForm):
    missing_facts = forms.MultipleChoiceField(
        required=False,
        label="Missing or doubtful facts",
        choices=[(k, catalog_facts.LABELS[k]) for k in catalog_facts.FACT_KEYS if k != "sku"],
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(VersionedForm):
    note = forms.CharField(
        required=False, max_length=2000, label="Why", widget=forms.Textarea(attrs={"rows": 2})
    )


class GrantForm(VersionedForm):
    username = forms.CharField(max_length=150, label="Member to grant this item")


class BulkAcceptForm(forms.Form):
    item = forms.MultipleChoiceField(required=False, choices=())
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "decision:version" pairs; the service checks tenancy, eligibility and versions.
        self.fields["item"].valid_value = lambda v: _pair(v) is not None

    def items(self) -> list[tuple[int, int]]:
        return [_pair(v) for v in self.cleaned_data.get("item") or []]


def _pair(value) -> tuple[int, int] | None:
    pk, _, version = str(value).partition(":")
    return (int(pk), int(version)) if pk.isdigit() and version.isdigit() else None
