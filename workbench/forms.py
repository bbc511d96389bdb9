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


class NewAccountForm(forms.Form):
    """The password of the account an invitation creates (checked by Django's validators in
    ``invitation_accept_new_account``)."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data
