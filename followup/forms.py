"""Forms of follow-up: the facts a broker asked for (and only those), a supplier contact."""

from django import forms

from catalog.forms import FactsForm


class AskedFactsForm(FactsForm):
    """``FactsForm`` cut down to the facts asked; every fact becomes required (it was asked)."""

    def __init__(self, *args, asked, **kwargs):
        super().__init__(*args, **kwargs)
        for key in list(self.fields):
            if key not in asked:
                del self.fields[key]
            else:
                self.fields[key].required = True


class SupplierContactForm(forms.Form):
    contact_name = forms.CharField(max_length=200, label="Supplier contact")
    contact_email = forms.EmailField(
        required=False,
        label="Email address",
        help_text="The link is emailed here; leave empty to pass it on yourself.",
    )
