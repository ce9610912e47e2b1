"""Forms of the staff security pages: second factor, access reviews."""

from __future__ import annotations

from django import forms

from dashboard.forms.common import confirm_field
from privacydesk.forms import ServiceErrorsMixin


class MfaCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )


class ConfirmForm(forms.Form):
    confirm = confirm_field()


class ReviewDecisionForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label="Note", max_length=500, required=False)


class ReviewSignForm(ServiceErrorsMixin, forms.Form):
    statement = forms.CharField(
        label="Statement",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=(
            "I have reviewed every staff account and API client listed, confirmed "
            "the access each still needs and revoked the rest."
        ),
    )
    confirm = confirm_field("I confirm: sign this review (its decisions become final)")
