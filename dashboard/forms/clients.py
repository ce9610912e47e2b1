"""Forms of the API client pages."""

from __future__ import annotations

from django import forms

from accounts.choices import Scope
from dashboard.forms.common import confirm_field
from privacydesk.forms import ServiceErrorsMixin


class ApiClientCreateForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Which system uses this token, e.g. “Helpdesk integration”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant only what the integration needs.",
    )


class RevokeForm(forms.Form):
    confirm = confirm_field("I confirm: revoke this token")
