"""Forms of the tariff pages: parsers of query strings, nothing more."""

from decimal import Decimal

import pycountry
from django import forms
from django.conf import settings

from tariffs import codes


def _jurisdictions():
    return [(j, j) for j in settings.JURISDICTIONS]


class JurisdictionForm(forms.Form):
    jurisdiction = forms.ChoiceField(choices=_jurisdictions, required=False)

    def clean_jurisdiction(self):
        return self.cleaned_data["jurisdiction"] or "US"


class SearchForm(JurisdictionForm):
    q = forms.CharField(label="Code or words", max_length=200, required=False)


class DutyForm(JurisdictionForm):
    code = forms.CharField(label="Tariff code", max_length=20)
    origin = forms.CharField(
        label="Country of origin", max_length=2, help_text="ISO 3166 alpha-2, e.g. VN"
    )
    customs_value = forms.DecimalField(
        label="Customs value", max_digits=14, decimal_places=2, min_value=Decimal(0)
    )
    currency = forms.CharField(max_length=3, initial="USD")
    quantity = forms.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal(0), required=False
    )
    quantity_unit = forms.CharField(
        label="Quantity unit", max_length=20, required=False, help_text="e.g. No., doz., kg, liter"
    )
    net_weight_kg = forms.DecimalField(
        label="Net weight (kg)",
        max_digits=14,
        decimal_places=3,
        min_value=Decimal(0),
        required=False,
    )

    def clean_code(self):
        normal = codes.normalise(self.cleaned_data["code"])
        if normal.error:
            raise forms.ValidationError(normal.error)
        return normal.digits

    def clean_origin(self):
        origin = self.cleaned_data["origin"].strip().upper()
        if origin != "XK" and pycountry.countries.get(alpha_2=origin) is None:
            raise forms.ValidationError(f"{origin!r} is not an ISO 3166 country code.")
        return origin

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if pycountry.currencies.get(alpha_3=currency) is None:
            raise forms.ValidationError(f"{currency!r} is not an ISO 4217 currency code.")
        return currency


class DiffForm(JurisdictionForm):
    from_revision = forms.ChoiceField(label="From revision", choices=())
    to_revision = forms.ChoiceField(label="To revision", choices=())

    def __init__(self, *args, revisions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(r, r) for r in revisions]
        self.fields["from_revision"].choices = choices
        self.fields["to_revision"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("from_revision") and data.get("from_revision") == data.get("to_revision"):
            raise forms.ValidationError("Choose two different revisions.")
        return data
