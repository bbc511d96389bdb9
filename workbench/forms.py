"""Forms for the workbench shell."""

from django import forms
from django.contrib.auth import get_user_model

from workbench.roles import Role


class MembershipForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=Role.choices)

    def clean(self):
        cleaned = super().clean()
        username = cleaned.get("username")
        if username:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None:
                self.add_error("username", f"No active user is called {username!r}.")
            cleaned["user"] = user
        return cleaned
