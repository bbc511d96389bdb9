"""Forms: the upload, the list filters, and the edit-facts form (validated by facts.py)."""

import os

from django import forms
from django.conf import settings

from catalog import facts as F
from catalog.models import ClassificationStatus, EditsChoice
from catalog.selectors import FINAL_FACTS_CHANGED


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Catalog file",
        help_text="An .xlsx workbook or a .csv file (UTF-8), one product per row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        ext = os.path.splitext(upload.name.lower())[1]
        if ext not in (".xlsx", ".xlsm", ".csv", ".txt"):
            raise forms.ValidationError(
                f"'{upload.name}' is not a spreadsheet: upload an .xlsx workbook or a .csv file."
            )
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1048576:.1f} MB, over the "
                f"{settings.UPLOAD_MAX_BYTES / 1048576:.0f} MB limit."
            )
        return upload


class EditsChoiceForm(forms.Form):
    """The analyst's answer to an import that would overwrite facts set in the app."""

    edits = forms.ChoiceField(choices=EditsChoice.choices)


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    destination = forms.ChoiceField(required=False, label="Destination")
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[
            ("", "Any"),
            *list(ClassificationStatus.choices),
            (FINAL_FACTS_CHANGED, "Final, facts changed since"),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [("", "Any")] + [
            (j, j) for j in settings.JURISDICTIONS
        ]


class FactsForm(forms.Form):
    """Edit a product's facts; every rule is ``facts.validate_row``'s, none is repeated here."""

    name = forms.CharField(max_length=F.MAX_LENGTHS["name"])
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    country_of_origin = forms.CharField(max_length=60)
    materials = forms.CharField(help_text=F.HELP["materials"])
    intended_use = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    product_type = forms.CharField(max_length=F.MAX_LENGTHS["product_type"])
    destination = forms.ChoiceField()
    customs_value = forms.CharField(required=False)
    currency = forms.CharField(required=False, max_length=10)
    quantity = forms.CharField(required=False)
    quantity_unit = forms.CharField(required=False)
    net_weight_kg = forms.CharField(required=False, label="Net weight (kg)")
    supplier = forms.CharField(required=False)
    declared_code = forms.CharField(required=False, help_text=F.HELP["declared_code"])
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [(j, j) for j in settings.JURISDICTIONS]
        for key, field in self.fields.items():
            field.label = F.LABELS[key]
            if not field.help_text:
                field.help_text = F.HELP[key]

    @classmethod
    def initial_from(cls, facts: dict) -> dict:
        initial = dict(facts or {})
        initial["materials"] = "; ".join(initial.get("materials") or [])
        return {k: v for k, v in initial.items() if k != "sku"}
