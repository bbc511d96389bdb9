"""Forms as parsers: a draft's source (typed or uploaded) and a backtest-set upload."""

from django import forms
from django.conf import settings

from rulepacks import cases, services

STARTER = """\
# A new rule pack: see docs/rule-packs.md for every key.
denied = []  # the denied-goods list must be declared; replace with [[denied]] entries

[pack]
name = "My import policy"
jurisdiction = "{jurisdiction}"
version = "1"

[thresholds]
min_confidence = 0.82
tie_margin = 0.05

[[rules]]
id = "example-rule"
code = ""
confidence = 0.9
risk = "low"
rationale = "GRI 1: ..."
[rules.when]
text = ["..."]

# At least 10 [[golden]] cases are required before activation.
"""
SOURCE_HELP = (
    "TOML, as described in the rule-pack format guide. Type or paste it, or upload a file."
)


class SourceForm(forms.Form):
    """The source of a draft: from the editor, or from an uploaded .toml file (which wins)."""

    jurisdiction = forms.ChoiceField(choices=())
    source = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code-editor"}),
        help_text=SOURCE_HELP,
    )
    file = forms.FileField(required=False, label="or upload a .toml file")

    def __init__(self, *args, with_jurisdiction=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [(j, j) for j in settings.JURISDICTIONS]
        if not with_jurisdiction:
            del self.fields["jurisdiction"]

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > services.MAX_SOURCE_CHARS:
                raise forms.ValidationError("The file is too large for a rule pack.")
            try:
                data["source"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as err:
                raise forms.ValidationError("The file is not UTF-8 text.") from err
        if not (data.get("source") or "").strip():
            raise forms.ValidationError("Type the pack or upload a .toml file.")
        return data


class CasesForm(forms.Form):
    file = forms.FileField(label="Backtest set (.xlsx or .toml)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > cases.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size} bytes, above {cases.MAX_UPLOAD_BYTES}."
            )
        return upload
