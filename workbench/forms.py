"""Forms for the workbench shell."""

from django import forms

from workbench.roles import Role


class MembershipForm(forms.Form):
    """A person to invite, or a member whose role changes: no account is looked up here."""

    invitee = forms.CharField(
        max_length=254, label="Username or email", help_text="A member's role changes at once."
    )
    role = forms.ChoiceField(choices=Role.choices)

    def clean_invitee(self):
        return self.cleaned_data["invitee"].strip()
