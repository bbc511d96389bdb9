"""Forms of the audit app: parsers for the log filters, the export scope and a file to verify."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from audit.snapshot import OUTCOMES, NotAnExport, read_export_file


class LogFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=200)
    verb = forms.CharField(
        required=False, max_length=100, help_text="A prefix: catalog. or catalog.product.updated"
    )
    target_type = forms.CharField(required=False, max_length=100, label="Target type")
    target_id = forms.CharField(required=False, max_length=100, label="Target id")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", f"The range ends ({end}) before it starts ({start}).")
        return data

    def filters(self) -> dict:
        """Return the selector keyword arguments (empty filters left out)."""
        data = self.cleaned_data
        keys = ("actor", "verb", "target_type", "target_id", "date_from", "date_to")
        return {k: data[k] for k in keys if data.get(k)}


class ExportForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="Decisions from", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="to", widget=forms.DateInput({"type": "date"}))
    jurisdiction = forms.ChoiceField(required=False)
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "All outcomes")] + [(o, o.replace("_", " ")) for o in OUTCOMES],
    )
    skus = forms.CharField(
        required=False,
        label="SKUs",
        widget=forms.Textarea({"rows": 2}),
        help_text="Only these products: SKUs separated by commas, spaces or lines.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "All jurisdictions")] + [
            (j, j) for j in settings.JURISDICTIONS
        ]

    def scope(self) -> dict:
        """Return the export scope for ``audit.services.export_request``."""
        data = self.cleaned_data
        return {
            "from": data.get("date_from"),
            "to": data.get("date_to"),
            "jurisdiction": data.get("jurisdiction") or None,
            "outcome": data.get("outcome") or None,
            "skus": data.get("skus", "").replace(",", " ").split(),
        }


class VerifyUploadForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="The JSON file downloaded from an audit export, unchanged.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self):
        """Check the size, then parse the file as an export snapshot (``snapshot_bytes``)."""
        upload = self.cleaned_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(too_large_message(upload.size, limit))
        data = upload.read()
        try:
            self.document = read_export_file(data)
        except NotAnExport as err:
            raise forms.ValidationError(str(err)) from None
        self.snapshot_bytes = data
        return upload


def too_large_message(size: int, limit: int) -> str:
    return (
        f"The file is {filesizeformat(size)}, over the {filesizeformat(limit)} limit for "
        "checking in the browser: verify it with manage.py audit_export_verify instead."
    )
